"""`lite-pruner serve`: a pruning service, an OpenAI-compatible proxy and a playground page.

Needs the serve extra (starlette, uvicorn, httpx): `pip install 'lite-pruner[serve]'`. Nothing
here is imported by `import lite`.

    from lite.serve import ServeConfig, create_app
    app = create_app(ServeConfig(upstream="https://api.openai.com/v1"), lite.load(SLICE))
"""

from .options import ServeConfig

__all__ = ["ServeConfig", "create_app"]


def __getattr__(name: str):
    if name == "create_app":  # starlette is imported only when the app is asked for
        from .app import create_app

        return create_app
    raise AttributeError(name)
