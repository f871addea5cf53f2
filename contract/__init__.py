"""Names that cross the boundary between infrastructure (stacks/) and runtime code (app/, ml/).

Each name is defined once here and imported on both sides, so a renamed container or
app setting cannot silently break the deployed app. Pure Python: no cdktn, no Azure SDK.
"""

# --- Data Lake (medallion layers as ADLS Gen2 filesystems) ---
LAKE_LAYERS = ("bronze", "silver", "gold")
STREAM_EVENT_HUB = "car-listings"
STREAM_CONSUMER_GROUP = "lake-ingest"

# --- Cosmos DB (SQL API) ---
COSMOS_DATABASE = "carprice"
HISTORY_CONTAINER = "predictions"
BATCH_CONTAINER = "batch-results"
# History is read newest-first, optionally for one make; batch results are filtered by make.
HISTORY_PARTITION_KEY = "/make"
BATCH_PARTITION_KEY = "/make"

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
