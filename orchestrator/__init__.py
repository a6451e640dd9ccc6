"""MuseAIka orchestrator: thin FastAPI routes over services that call the model servers."""
