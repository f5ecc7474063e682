"""The words of the sign-in pages, in Korean and English."""

from __future__ import annotations

from tokengate.errors import Locale

_TEXTS: dict[str, tuple[str, str]] = {
    # key: (English, Korean)
    "sign_in": ("Sign in", "로그인"),
    "email": ("E-mail", "이메일"),
    "password": ("Password", "비밀번호"),
    "or": ("or", "또는"),
    "sign_in_with": ("Sign in with {provider}", "{provider}(으)로 로그인"),
    "other_language": ("한국어", "English"),
    "other_language_code": ("ko", "en"),
    "expired": (
        "Your session has expired. Please sign in again.",
        "세션이 만료되었습니다. 다시 로그인하세요.",
    ),
    "signed_out": ("You have signed out.", "로그아웃되었습니다."),
    "form_expired": (
        "The sign-in form has expired. Please try again.",
        "로그인 양식이 만료되었습니다. 다시 시도하세요.",
    ),
    "wrong_credentials": (
        "The e-mail address or the password is wrong.",
        "이메일 주소 또는 비밀번호가 올바르지 않습니다.",
    ),
    "csrf_failed": (
        "The form could not be verified. Reload the page and try again.",
        "양식을 확인할 수 없습니다. 페이지를 새로고침한 후 다시 시도하세요.",
    ),
    "provider_error": (
        "Sign-in at {provider} was cancelled or refused ({error}).",
        "{provider} 로그인이 취소되었거나 거부되었습니다({error}).",
    ),
    "missing_code": (
        "The sign-in provider sent no authorization code. Please start again.",
        "로그인 제공자가 인증 코드를 보내지 않았습니다. 처음부터 다시 시도하세요.",
    ),
    "mfa_title": ("Two-step verification", "2단계 인증"),
    "mfa_intro": (
        "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
        "인증 앱에 표시된 6자리 코드 또는 복구 코드 하나를 입력하세요.",
    ),
    "code": ("Code", "코드"),
    "verify": ("Verify", "확인"),
    "enrol_title": ("Set up two-step verification", "2단계 인증 설정"),
    "enrol_intro": (
        "Your organisation requires two-step verification. Scan the QR code with an "
        "authenticator app (or type in the key), then enter the code it shows.",
        "조직에서 2단계 인증을 요구합니다. 인증 앱으로 QR 코드를 스캔하거나 키를 직접 입력한 뒤, "
        "앱에 표시된 코드를 입력하세요.",
    ),
    "secret": ("Key", "키"),
    "confirm": ("Confirm", "확인"),
    "new_qr": ("Show a new QR code", "새 QR 코드 보기"),
    "codes_title": ("Your recovery codes", "복구 코드"),
    "codes_intro": (
        "Each code lets you sign in once if you lose your authenticator. Keep them somewhere "
        "safe: they are shown only this once.",
        "인증 앱을 잃어버렸을 때 각 코드로 한 번씩 로그인할 수 있습니다. 안전한 곳에 보관하세요. "
        "이 코드는 지금 한 번만 표시됩니다.",
    ),
    "continue": ("Continue", "계속"),
    "home_title": ("Home", "홈"),
    "sign_out": ("Sign out", "로그아웃"),
}


def texts(locale: Locale) -> dict[str, str]:
    """Every text of the sign-in pages in one language."""
    index = 0 if locale == "en" else 1
    return {key: pair[index] for key, pair in _TEXTS.items()}
