"""Local development: the twin (emulators, stand-ins for Azure OpenAI and AI Search, the listing replayer, the
local inference server) and the architecture pictures."""
