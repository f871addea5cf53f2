"""The function app (Azure Functions, Python v2 programming model): stream scoring of listing events
and the HTTPS pricing workflow. function_app.py only declares triggers; the logic lives in plain modules
here (handlers, market, pricing, store) so tests call it with the azure-functions library's objects."""
