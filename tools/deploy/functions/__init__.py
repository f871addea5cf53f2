"""Deploying the function app (functions/): its package."""
