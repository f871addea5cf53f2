"""Price models: the interface the app needs, in-process ONNX (local) and the Azure ML endpoint (remote)."""
