"""Names the generative-AI tier shares between infrastructure (stacks/genai.py) and the assistant's runtime.

The genai stack creates the Azure OpenAI deployments, the search service and the chat container under these
names and hands the web app and the function app the settings below; the runtime reads the same settings.
Pure Python, like the rest of `contract`.
"""

# --- Azure OpenAI ---
# Deployment names the runtime calls; the model behind each (name, version, SKU, capacity) is per environment
# (stacks/environments/<env>.yaml `genai`), so a model upgrade never renames what the app calls.
OPENAI_CHAT_DEPLOYMENT = "chat"
OPENAI_EMBEDDING_DEPLOYMENT = "embedding"
# The data-plane API version the runtime pins (a GA version; the service keeps GA versions available).
OPENAI_API_VERSION = "2024-10-21"
# Entra ID token scope of Azure OpenAI (local keys are disabled on the account).
OPENAI_TOKEN_SCOPE = "https://cognitiveservices.azure.com/.default"

# --- Azure AI Search ---
# The index has no Resource Manager resource: a deploy step creates it from its schema under this name.
SEARCH_INDEX = "listings"
SEARCH_TOKEN_SCOPE = "https://search.azure.com/.default"

# --- Cosmos DB: chat history per anonymous session (expires by TTL, see `genai.chat_ttl_days`) ---
CHAT_CONTAINER = "chat"
CHAT_PARTITION_KEY = "/session_id"

# App settings the web app and the function app receive (environment variables). The embedding width is no
# setting: it is the index's, contract/listings_index.py EMBEDDING_DIMENSIONS, which the config validates.
SETTING_OPENAI_ENDPOINT = "CARPRICE_OPENAI_ENDPOINT"  # https://<custom subdomain>.openai.azure.com/
SETTING_OPENAI_API_VERSION = "CARPRICE_OPENAI_API_VERSION"
SETTING_OPENAI_CHAT_DEPLOYMENT = "CARPRICE_OPENAI_CHAT_DEPLOYMENT"
SETTING_OPENAI_EMBEDDING_DEPLOYMENT = "CARPRICE_OPENAI_EMBEDDING_DEPLOYMENT"
SETTING_SEARCH_ENDPOINT = "CARPRICE_SEARCH_ENDPOINT"  # https://<service>.search.windows.net
SETTING_SEARCH_INDEX = "CARPRICE_SEARCH_INDEX"
SETTING_CHAT_CONTAINER = "CARPRICE_CHAT_CONTAINER"  # web app only: the function app never reads chats
