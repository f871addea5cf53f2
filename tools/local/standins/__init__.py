"""Local stand-ins for the Azure AI services the assistant calls: real HTTPS servers on 127.0.0.1 that speak the
REST subset the official SDKs use, so the app's production client code runs against them unchanged."""
