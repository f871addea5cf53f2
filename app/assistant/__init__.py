"""The car-buying assistant: Azure OpenAI answers, grounded in the price model (tool `price_car`) and the
`listings` Azure AI Search index (tool `search_listings`, retrieval run by the app itself)."""
