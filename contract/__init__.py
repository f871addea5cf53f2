"""Names that cross the boundary between infrastructure (stacks/) and runtime code (app/, ml/).

Each name is defined once here and imported on both sides, so a renamed container or
app setting cannot silently break the deployed app. Pure Python: no cdktn, no Azure SDK.
"""

# --- Data Lake (medallion layers as ADLS Gen2 filesystems) ---
LAKE_LAYERS = ("bronze", "silver", "gold")
STREAM_EVENT_HUB = "car-listings"
# The function app's own consumer group on the listings hub (Capture reads the hub without one).
STREAM_SCORING_CONSUMER_GROUP = "market-scoring"
# Raw landing inside the bronze filesystem: Data Factory copies dealer feeds to
# feeds/ingest_date=YYYY-MM-DD/, Event Hubs Capture writes Avro under capture/ in this layout
# (Capture requires every one of these tokens in its archive name format).
LAKE_FEEDS_FOLDER = "feeds"
LAKE_CAPTURE_FOLDER = "capture"
CAPTURE_ARCHIVE_NAME_FORMAT = (
    LAKE_CAPTURE_FOLDER + "/{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}"
)
# Dealers upload feed files into this lake filesystem; Data Factory moves each one, once, into
# bronze/feeds/ingest_date=<copy date>/.
FEED_LANDING_CONTAINER = "landing"
FEED_INGEST_DATE_KEY = "ingest_date"
FEED_FILE_SUFFIXES = (".csv", ".json", ".jsonl")

# --- Cosmos DB (SQL API) ---
COSMOS_DATABASE = "carprice"
HISTORY_CONTAINER = "predictions"
BATCH_CONTAINER = "batch-results"
# History is read newest-first, optionally for one make; batch results are filtered by make.
HISTORY_PARTITION_KEY = "/make"
BATCH_PARTITION_KEY = "/make"
# Scored stream listings for the live market panel (the dashboard filters by make like every other
# page; writes spread over makes) and events the stream could not score, with the reason.
MARKET_CONTAINER = "market"
MARKET_PARTITION_KEY = "/make"
DEAD_LETTER_CONTAINER = "dead_letters"
DEAD_LETTER_PARTITION_KEY = "/day"  # looked at per day; one day's failures stay in one partition

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
SETTING_MARKET_CONTAINER = "CARPRICE_MARKET_CONTAINER"
SETTING_DEAD_LETTER_CONTAINER = "CARPRICE_DEAD_LETTER_CONTAINER"
AML_ENDPOINT_TOKEN_SCOPE = "https://ml.azure.com/.default"

# --- Function app (functions/) ---
# Identity-based Event Hubs connection: the app settings are this prefix + "__fullyQualifiedNamespace"
# (+ "__credential" = "managedidentity" and "__clientId" for a user-assigned identity).
FUNCTION_EVENTHUB_CONNECTION = "CARPRICE_EVENTHUB"
FUNCTION_PYTHON_VERSION = "3.11"
FUNCTION_PRICE_ROUTE = "price"

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
# Folders on ML_DATASTORE_LAKE: prep writes the cars to price there, batch scoring writes predictions/<run id>/.
ML_BATCH_INPUT_PATH = "batch-input"
ML_BATCH_OUTPUT_PATH = "predictions"


def ml_endpoint_name(endpoint: str, environment: str) -> str:
    """An endpoint's name in one environment. Endpoint URIs are https://<name>.<region>.inference.ml.azure.com,
    so a name is unique per region: environments sharing a region need their own names."""
    return f"{endpoint}-{environment}"


def online_scoring_url(environment: str, region: str) -> str:
    """The scoring URI of the environment's online endpoint, which callers in remote scoring mode post to."""
    return f"https://{ml_endpoint_name(ML_ONLINE_ENDPOINT, environment)}.{region}.inference.ml.azure.com/score"
