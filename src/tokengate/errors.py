"""The one error tree of tokengate.

Services raise these; only the edges (``proxy/errors.py`` for ``/v1``, ``api_errors.py`` for
``/api``) turn them into responses, each in its surface's own shape.

    TokengateError                      500 internal_error
    ├── ConfigError                     (start-up: a setting is missing or wrong)
    ├── UsageNotRecorded                503 usage_not_recorded
    ├── InvalidRequest                  400 invalid_request
    │   ├── InvalidJSON                 400 invalid_json
    │   └── BodyTooLarge                413 body_too_large
    ├── AuthenticationFailed            401 unauthorized
    │   ├── KeyInvalid                  401 invalid_api_key
    │   └── KeyExpired                  401 expired_api_key
    ├── PermissionDenied                403 forbidden
    │   ├── ModelNotAllowed             403 model_not_allowed
    │   ├── UserBlocked                 403 user_blocked
    │   ├── QuotaExceeded               403 quota_exceeded
    │   └── MfaRequired                 403 mfa_required
    ├── NotFound                        404 not_found
    │   └── ModelNotFound               404 model_not_found
    ├── MethodNotAllowed                405 method_not_allowed
    ├── Conflict                        409 conflict
    ├── RateLimited                     429 rate_limited
    │   └── AccountLocked               429 account_locked
    └── UpstreamError                   502 upstream_error
        ├── UpstreamUnavailable         502 upstream_unavailable
        ├── UpstreamStatus              (the provider's status) upstream_status
        ├── UpstreamStreamCut           502 upstream_stream_cut
        ├── UpstreamOverrun             502 upstream_overrun
        ├── NoDeploymentAvailable       503 no_deployment_available
        └── UpstreamTimeout             504 upstream_timeout
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

Locale = Literal["ko", "en"]


class TokengateError(Exception):
    """Base of every error tokengate raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    openai_type: ClassVar[str] = "api_error"
    message_en: ClassVar[str] = "Internal error."
    message_ko: ClassVar[str] = "내부 오류가 발생했습니다."

    def __init__(
        self,
        message: str | None = None,
        *,
        param: str | None = None,
        localized: Mapping[str, str] | None = None,
        **context: object,
    ) -> None:
        self.explicit_message = message
        self.localized = dict(localized or {})
        self.param = param
        self.context = context
        super().__init__(message or self.localized.get("en") or self.message_en.format(**context))

    def message(self, locale: Locale = "en") -> str:
        """Return the message in the given locale (an explicit message wins)."""
        if self.explicit_message is not None:
            return self.explicit_message
        if locale in self.localized:
            return self.localized[locale]
        template = self.message_ko if locale == "ko" else self.message_en
        return template.format(**self.context)

    def headers(self) -> dict[str, str]:
        """Return extra response headers this error asks for."""
        return {}


class ConfigError(TokengateError):
    """A setting is missing or wrong; raised at start-up."""

    code = "config_error"
    message_en = "Configuration error."
    message_ko = "설정 오류입니다."


class UsageNotRecorded(TokengateError):
    """The usage event could not be written, so the request is not reported as a success."""

    status_code = 503
    code = "usage_not_recorded"
    message_en = "The request could not be recorded; please retry."
    message_ko = "요청을 기록하지 못했습니다. 다시 시도해주세요."


class InvalidRequest(TokengateError):
    """The request is malformed or misses a field."""

    status_code = 400
    code = "invalid_request"
    openai_type = "invalid_request_error"
    message_en = "The request is invalid."
    message_ko = "요청이 올바르지 않습니다."


class InvalidJSON(InvalidRequest):
    """The body is not valid JSON."""

    code = "invalid_json"
    message_en = "The request body is not valid JSON."
    message_ko = "요청 본문이 올바른 JSON이 아닙니다."


class BodyTooLarge(InvalidRequest):
    """The body is larger than TOKENGATE_MAX_BODY_BYTES."""

    status_code = 413
    code = "body_too_large"
    message_en = "The request body is larger than {limit} bytes."
    message_ko = "요청 본문이 허용된 크기({limit}바이트)를 넘습니다."


class AuthenticationFailed(TokengateError):
    """No valid credentials were given."""

    status_code = 401
    code = "unauthorized"
    openai_type = "authentication_error"
    message_en = "Authentication is required."
    message_ko = "인증이 필요합니다."


class KeyInvalid(AuthenticationFailed):
    """The virtual key is unknown, malformed or revoked."""

    code = "invalid_api_key"
    message_en = "Invalid API key."
    message_ko = "API 키가 올바르지 않습니다."


class KeyExpired(AuthenticationFailed):
    """The virtual key has passed its expiry."""

    code = "expired_api_key"
    message_en = "This API key has expired."
    message_ko = "API 키가 만료되었습니다."


class PermissionDenied(TokengateError):
    """The caller may not do this."""

    status_code = 403
    code = "forbidden"
    openai_type = "permission_error"
    message_en = "You are not allowed to do this."
    message_ko = "이 작업을 할 권한이 없습니다."

    def headers(self) -> dict[str, str]:
        """Tell the OpenAI and Anthropic SDKs not to retry: the answer will not change."""
        return {"x-should-retry": "false"}


class ModelNotAllowed(PermissionDenied):
    """The plan (or key) does not allow this model."""

    code = "model_not_allowed"
    message_en = "Your plan ({plan}) does not allow the model {model}."
    message_ko = "현재 플랜({plan})에서는 {model} 모델을 사용할 수 없습니다."


class UserBlocked(PermissionDenied):
    """The user or key has been blocked by an administrator."""

    code = "user_blocked"
    message_en = "You can no longer use chat. Please contact your administrator."
    message_ko = "더 이상 채팅을 사용할 수 없습니다. 관리자에게 문의해주세요."


class QuotaExceeded(PermissionDenied):
    """The period's allowance is spent: retrying cannot help."""

    code = "quota_exceeded"
    openai_type = "insufficient_quota"
    message_en = (
        "Sorry, you have used up this period's allowance. Please contact your administrator."
    )
    message_ko = "죄송합니다. 이번 달 사용 한도를 초과하셨습니다. 관리자에게 문의해주세요."


class MfaRequired(PermissionDenied):
    """The tenant requires MFA: a second factor, or enrolling one first."""

    code = "mfa_required"
    message_en = "A second factor is required: enter a code from your authenticator app."
    message_ko = "2단계 인증이 필요합니다. 인증 앱의 코드를 입력하세요."


class NotFound(TokengateError):
    """The object does not exist (or is not visible to the caller)."""

    status_code = 404
    code = "not_found"
    openai_type = "not_found_error"
    message_en = "Not found."
    message_ko = "찾을 수 없습니다."


class ModelNotFound(NotFound):
    """No active model has this name."""

    code = "model_not_found"
    openai_type = "invalid_request_error"
    message_en = "The model {model} does not exist or is not active."
    message_ko = "{model} 모델이 없거나 비활성 상태입니다."


class MethodNotAllowed(TokengateError):
    """The path exists but not with this HTTP method."""

    status_code = 405
    code = "method_not_allowed"
    openai_type = "invalid_request_error"
    message_en = "This method is not allowed here."
    message_ko = "허용되지 않는 메서드입니다."


class Conflict(TokengateError):
    """The change clashes with existing data (e.g. a duplicate name)."""

    status_code = 409
    code = "conflict"
    openai_type = "invalid_request_error"
    message_en = "Conflict with existing data."
    message_ko = "기존 데이터와 충돌합니다."


class RateLimited(TokengateError):
    """A rolling limit is full; it frees up after Retry-After seconds."""

    status_code = 429
    code = "rate_limited"
    openai_type = "rate_limit_error"
    message_en = "Rate limit reached. Retry after {retry_after} seconds."
    message_ko = "요청 한도에 도달했습니다. {retry_after}초 후에 다시 시도하세요."

    def headers(self) -> dict[str, str]:
        """Ask the client to wait."""
        return {"Retry-After": str(self.context.get("retry_after", 1))}


class AccountLocked(RateLimited):
    """Too many failed password or TOTP entries: locked for Retry-After seconds."""

    code = "account_locked"
    message_en = "Too many failed attempts. Try again in {retry_after} seconds."
    message_ko = "실패한 시도가 너무 많습니다. {retry_after}초 후에 다시 시도하세요."


class UpstreamError(TokengateError):
    """The provider failed."""

    status_code = 502
    code = "upstream_error"
    message_en = "The model provider returned an error."
    message_ko = "모델 제공자가 오류를 반환했습니다."


class UpstreamUnavailable(UpstreamError):
    """The provider could not be reached."""

    code = "upstream_unavailable"
    message_en = "The model provider is unreachable."
    message_ko = "모델 제공자에 연결할 수 없습니다."


class UpstreamStatus(UpstreamError):
    """The provider answered with an error status, relayed as-is."""

    code = "upstream_status"
    message_en = "The model provider answered {status}: {detail}"
    message_ko = "모델 제공자가 {status} 오류를 반환했습니다: {detail}"

    def __init__(self, *, status: int, detail: str) -> None:
        super().__init__(status=status, detail=detail)
        self.upstream_status = status

    @property
    def status(self) -> int:
        """Relay client errors as-is; any provider-side failure becomes 502."""
        return self.upstream_status if 400 <= self.upstream_status < 500 else 502


class UpstreamStreamCut(UpstreamError):
    """The provider's stream ended before it was complete."""

    code = "upstream_stream_cut"
    message_en = "The model provider's stream ended unexpectedly."
    message_ko = "모델 제공자의 스트림이 예기치 않게 끊겼습니다."


class UpstreamOverrun(UpstreamError):
    """The provider streamed more output than the request's reservation: the stream is cut."""

    code = "upstream_overrun"
    message_en = (
        "The model provider produced more than this request was allowed; the answer was cut."
    )
    message_ko = "모델 제공자가 이 요청에 허용된 양보다 많이 생성하여 응답을 중단했습니다."


class NoDeploymentAvailable(UpstreamError):
    """Every deployment of the model and of its fallbacks is out of rotation."""

    status_code = 503
    code = "no_deployment_available"
    message_en = "No deployment of this model is available right now. Try again shortly."
    message_ko = "지금은 이 모델을 처리할 수 있는 배포가 없습니다. 잠시 후 다시 시도하세요."


class UpstreamTimeout(UpstreamError):
    """The provider did not answer in time."""

    status_code = 504
    code = "upstream_timeout"
    message_en = "The model provider did not answer in time."
    message_ko = "모델 제공자가 제한 시간 안에 응답하지 않았습니다."


def status_of(error: TokengateError) -> int:
    """Return the HTTP status an error maps to."""
    if isinstance(error, UpstreamStatus):
        return error.status
    return error.status_code
