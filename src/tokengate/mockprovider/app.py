from starlette.applications import Starlette
from starlette.routing import Route

from tokengate.mockprovider.chat import chat_completions
from tokengate.mockprovider.completions import completions
from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.control import CONTROL_ROUTES
from tokengate.mockprovider.embeddings import embeddings
from tokengate.mockprovider.errors import unknown_route
from tokengate.mockprovider.messages import create_message
from tokengate.mockprovider.model_list import list_models
from tokengate.mockprovider.pipeline import provider_endpoint
from tokengate.mockprovider.state import MockState, RecordedRequest, get_state


def create_mock_app(config: MockConfig | None = None) -> Starlette:
    """Build the mock provider's ASGI app."""
    routes = [
        Route(
            "/v1/chat/completions",
            provider_endpoint(chat_completions, flavor="openai"),
            methods=["POST"],
        ),
        Route("/v1/completions", provider_endpoint(completions, flavor="openai"), methods=["POST"]),
        Route("/v1/embeddings", provider_endpoint(embeddings, flavor="openai"), methods=["POST"]),
        Route(
            "/v1/models",
            provider_endpoint(list_models, flavor="openai", has_body=False),
            methods=["GET"],
        ),
        Route(
            "/v1/messages", provider_endpoint(create_message, flavor="anthropic"), methods=["POST"]
        ),
        # Azure OpenAI's layout: the deployment in the path, an api-version query parameter
        Route(
            "/openai/deployments/{deployment}/chat/completions",
            provider_endpoint(chat_completions, flavor="openai"),
            methods=["POST"],
        ),
        Route(
            "/openai/deployments/{deployment}/embeddings",
            provider_endpoint(embeddings, flavor="openai"),
            methods=["POST"],
        ),
        *CONTROL_ROUTES,
    ]
    app = Starlette(routes=routes, exception_handlers={404: unknown_route, 405: unknown_route})
    app.state.mock = MockState(config or MockConfig())
    return app


def set_config(app: Starlette, config: MockConfig) -> None:
    """Replace the config of a running mock app; requests already in flight keep the old one."""
    get_state(app).config = config


def recorded_requests(app: Starlette) -> list[RecordedRequest]:
    """Return the provider requests the app recorded, oldest first."""
    return list(get_state(app).requests)


def clear_recorded_requests(app: Starlette) -> None:
    """Forget the recorded requests."""
    get_state(app).requests.clear()


def release_hanging_requests(app: Starlette) -> None:
    """Answer every hanging request with 503 so that the server can shut down."""
    get_state(app).release_hanging()
