from ninja import NinjaAPI

api = NinjaAPI(title="Raccord API", version="1", urls_namespace="api")
