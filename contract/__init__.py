"""Names that cross the boundary between infrastructure (stacks/) and runtime code (app/, ml/).

Each name is defined once here and imported on both sides, so a renamed container or
app setting cannot silently break the deployed app. Pure Python: no cdktn, no Azure SDK.
"""

# --- Data Lake (medallion layers as ADLS Gen2 filesystems) ---
LAKE_LAYERS = ("bronze", "silver", "gold")
STREAM_EVENT_HUB = "car-listings"
# The stream-scoring function app reads the hub through its own consumer group; Capture needs none.
STREAM_SCORING_CONSUMER_GROUP = "score-listings"

# --- Ingest into bronze ---
# Dealers drop feed files into this lake filesystem; Data Factory moves each one into bronze exactly once.
FEED_LANDING_CONTAINER = "landing"
FEED_FILE_PATTERNS = ("*.csv", "*.json")
# bronze/feeds/ingest_date=YYYY-MM-DD/<feed file>, the date the factory copied it.
BRONZE_FEEDS_FOLDER = "feeds"
BRONZE_INGEST_DATE_KEY = "ingest_date"
# Event Hubs Capture writes Avro files to bronze/<this path>.avro; Azure requires every {...} token.
BRONZE_CAPTURE_FOLDER = "events"
CAPTURE_ARCHIVE_NAME_FORMAT = (
    BRONZE_CAPTURE_FOLDER + "/{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}"
)

# --- Cosmos DB (SQL API) ---
COSMOS_DATABASE = "carprice"
HISTORY_CONTAINER = "predictions"
BATCH_CONTAINER = "batch-results"
# History is read newest-first, optionally for one make; batch results are filtered by make.
HISTORY_PARTITION_KEY = "/make"
BATCH_PARTITION_KEY = "/make"
# Stream scoring: one market record per scored listing (the dashboard filters by make), and invalid events
# with the reason they were refused (read per reason when triaging).
MARKET_CONTAINER = "market"
MARKET_PARTITION_KEY = "/make"
DEAD_LETTER_CONTAINER = "dead_letters"
DEAD_LETTER_PARTITION_KEY = "/reason"

# --- Web app ---
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
APP_PYTHON_VERSION = "3.11"
APP_START_COMMAND = "gunicorn --config app/gunicorn.conf.py app.main:app"

# App settings (environment variables) the App stack sets and app/settings.py reads.
SETTING_COSMOS_ENDPOINT = "CARPRICE_COSMOS_ENDPOINT"
SETTING_COSMOS_DATABASE = "CARPRICE_COSMOS_DATABASE"
SETTING_HISTORY_CONTAINER = "CARPRICE_HISTORY_CONTAINER"
SETTING_BATCH_CONTAINER = "CARPRICE_BATCH_CONTAINER"
SETTING_SCORING_MODE = "CARPRICE_SCORING_MODE"  # "local" (ONNX in-process) or "remote"
SETTING_ENDPOINT_URL = "CARPRICE_ENDPOINT_URL"
SETTING_ENDPOINT_SCOPE = "CARPRICE_ENDPOINT_SCOPE"
SETTING_MODEL_DIR = "CARPRICE_MODEL_DIR"
SETTING_REGION = "CARPRICE_REGION"
SETTING_OUTBOX_DIR = "CARPRICE_OUTBOX_DIR"
SETTING_MANAGED_IDENTITY_CLIENT_ID = "AZURE_CLIENT_ID"  # read by DefaultAzureCredential
SETTING_APPINSIGHTS = "APPLICATIONINSIGHTS_CONNECTION_STRING"
AML_ENDPOINT_TOKEN_SCOPE = "https://ml.azure.com/.default"

# --- Function app (stream scoring and the HTTP pricing workflow) ---
FUNCTION_PYTHON_VERSION = APP_PYTHON_VERSION
# Identity-based connections: the Functions host reads `<name>__fullyQualifiedNamespace` (Event Hubs) and
# `<name>__accountEndpoint` (Cosmos DB), each with `__credential` and `__clientId`; no connection strings.
FUNCTION_EVENTHUB_CONNECTION = "CARPRICE_EVENTHUB"
FUNCTION_COSMOS_CONNECTION = "CARPRICE_COSMOS"
SETTING_MARKET_CONTAINER = "CARPRICE_MARKET_CONTAINER"
SETTING_DEAD_LETTER_CONTAINER = "CARPRICE_DEAD_LETTER_CONTAINER"
SETTING_EVENT_HUB_NAME = "CARPRICE_EVENT_HUB"
SETTING_CONSUMER_GROUP = "CARPRICE_CONSUMER_GROUP"

# --- Azure Machine Learning ---
ML_COMPUTE_CLUSTER = "cpu-cluster"
ML_INFERENCE_COMPUTE = "aks-inference"  # the AKS cluster attached to the workspace
ML_MODEL_NAME = "carprice"
ML_ONLINE_ENDPOINT = "carprice-online"
ML_KUBERNETES_ENDPOINT = "carprice-aks"
ML_BATCH_ENDPOINT = "carprice-batch"
ML_ENVIRONMENT = "carprice-env"
ML_DATA_ASSET = "carprice-gold"
# One Azure ML datastore per lake filesystem (ADLS Gen2 datastores point at one filesystem each).
ML_LAKE_DATASTORES = {layer: f"lake_{layer}" for layer in LAKE_LAYERS}
ML_DATASTORE_LAKE = ML_LAKE_DATASTORES["gold"]  # where the data asset (MLTable) and batch outputs live
