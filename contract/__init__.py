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
# The online endpoint's token is fetched from Azure Resource Manager with an ARM token (aml_token auth).
SETTING_ENDPOINT_TOKEN_URL = "CARPRICE_ENDPOINT_TOKEN_URL"
AML_ENDPOINT_TOKEN_SCOPE = "https://management.azure.com/.default"
ML_TOKEN_API_VERSION = "2024-10-01"
# The one permission callers of the online endpoint hold: the token action above (a custom role, stacks/ml.py).
ML_ENDPOINT_TOKEN_ACTION = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/token/action"

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
# Real-time scoring: a Kubernetes online endpoint on the attached AKS (ml/azureml/endpoints/online-endpoint.yml).
ML_ONLINE_ENDPOINT = "carprice-online"
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


def ml_endpoint_environment(endpoint: str, name: str) -> str:
    """The environment an endpoint name (`ml_endpoint_name`) belongs to."""
    prefix = f"{endpoint}-"
    if not name.startswith(prefix) or not name[len(prefix):]:
        raise ValueError(f"{name!r} is not an environment's {endpoint} endpoint ({prefix}<environment>)")
    return name[len(prefix):]


def online_scoring_url(environment: str, host: str, *, https: bool) -> str:
    """Where callers in remote scoring mode post: the inference router of the AKS cluster, by the private DNS
    name that resolves to its internal load balancer, routing to the environment's online endpoint."""
    scheme = "https" if https else "http"
    return f"{scheme}://{host}/api/v1/endpoint/{ml_endpoint_name(ML_ONLINE_ENDPOINT, environment)}/score"


def online_token_url(workspace_id: str, environment: str) -> str:
    """Kubernetes online endpoints take aml_token auth: a caller with the workspace role POSTs here (Azure
    Resource Manager, REST OnlineEndpoints_GetToken) for a short-lived token, then sends it as a bearer token."""
    endpoint = ml_endpoint_name(ML_ONLINE_ENDPOINT, environment)
    return (f"https://management.azure.com{workspace_id}/onlineEndpoints/{endpoint}"
            f"/token?api-version={ML_TOKEN_API_VERSION}")
