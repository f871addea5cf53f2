"""Tools around the web app that are not deployed: the local twin, the App Service packager, the batch importer."""
