from ninja import NinjaAPI

api = NinjaAPI(title="Otklik API", version="1", docs_url="/docs")
