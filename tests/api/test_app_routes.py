"""How the app declares its routers' routes (``api.app.add_routes``)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from bonafide.api import problems
from bonafide.api.app import add_routes


def test_plain_routers_are_declared_on_the_app_and_others_included() -> None:
    plain = APIRouter(prefix="/v1", tags=["plain"])
    inner = APIRouter()
    nested = APIRouter(prefix="/v1")
    nested.include_router(inner)
    # Router-level form limits reach routes only through include_router.
    forms = APIRouter(prefix="/v1", form_limits={"max_fields": 1})

    @plain.get("/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @inner.get("/inner")
    def inside() -> dict[str, bool]:
        return {"inner": True}

    @forms.get("/forms")
    def form_page() -> dict[str, bool]:
        return {"forms": True}

    app = FastAPI()
    problems.install(app)
    declared = add_routes(app, [plain, nested, forms])

    assert declared == [plain]
    # The plain router's route is the app's own; the nested router is one included branch.
    assert [r.path for r in app.routes if isinstance(r, APIRoute)] == ["/v1/things/{thing_id}"]
    paths = app.openapi()["paths"]
    assert set(paths) == {"/v1/things/{thing_id}", "/v1/inner", "/v1/forms"}
    operation = paths["/v1/things/{thing_id}"]["get"]
    assert operation["tags"] == ["plain"]
    # The generic problems of problems.install, documented as on an included route.
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
