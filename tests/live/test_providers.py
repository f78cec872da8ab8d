"""Live-session providers: Jitsi rooms and tokens, Google Meet and allowlisted links
(INTEROP §1.1, §1.3.4, §1.8; SECURITY-TESTS LIVE-02, LIVE-03, INJ-08)."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from lms.live.providers import (
    PROVIDERS,
    RESERVED_ROOMS,
    GoogleMeet,
    Jitsi,
    Join,
    LinkError,
    LiveSettings,
    OtherLink,
    get_provider,
    new_room_name,
)

SECRET = "s3cret-for-tests-only-0123456789abcdef"
SELF_HOSTED = LiveSettings.from_config(
    {
        "JITSI_DOMAIN": "meet.congdoan.example",
        "JITSI_APP_ID": "lms",
        "JITSI_APP_SECRET": SECRET,
        "JITSI_AUDIENCE": "jitsi",
        "JITSI_TOKEN_MINUTES": 120,
        "LIVE_ALLOWED_HOSTS": "zoom.us, Teams.Microsoft.com ,hop.example:8443",
    }
)
PUBLIC = LiveSettings.from_config({"JITSI_APP_ID": "lms", "JITSI_APP_SECRET": SECRET})
ROOM = re.compile(r"[a-z0-9-]+")


@dataclass
class Person:
    id: int
    full_name: str | None
    email: str | None


TRAINER = Person(7, "Nguyễn Thị Hoa", "hoa@example.vn")
LEARNER = Person(42, "Trần Văn Bình", None)


def decode(token: str, **kwargs):
    return jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience=kwargs.pop("audience", "jitsi"),
        issuer="lms",
        **kwargs,
    )


def token_for(user=LEARNER, *, moderator=False, room="hop-abcdefgh", **kwargs) -> str:
    joined = Jitsi.join(room, user, SELF_HOSTED, moderator=moderator, **kwargs)
    assert joined.token is not None
    return joined.token


def test_registry_names_the_three_providers():
    assert PROVIDERS == {"jitsi": Jitsi, "google_meet": GoogleMeet, "other": OtherLink}
    assert all(get_provider(key).key == key for key in PROVIDERS)
    with pytest.raises(KeyError):
        get_provider("zoom")


def test_settings_defaults_follow_the_config_names():
    settings = LiveSettings.from_config({})
    assert settings.jitsi_domain == "meet.jit.si"
    assert settings.jitsi_audience == "jitsi"
    assert settings.jitsi_token_minutes == 180
    assert not settings.token_auth
    assert settings.public_jitsi
    assert SELF_HOSTED.allowed_hosts == {"zoom.us", "teams.microsoft.com", "hop.example"}
    assert not LiveSettings.from_config({"JITSI_APP_ID": "lms"}).token_auth


# Room names (INTEROP §1.1.5)


def test_room_name_is_slug_dash_eight_base32_characters():
    room = Jitsi.prepare("Họp trực tuyến", "luat-cong-doan", "", SELF_HOSTED)
    assert re.fullmatch(r"luat-cong-doan-hop-truc-tuyen-[a-z2-7]{8}", room)


def test_vietnamese_titles_are_slugged_and_long_ones_cut():
    room = new_room_name("Đại hội Công đoàn cơ sở: Nhiệm kỳ 2026–2031 (phiên thứ nhất)", "")
    assert room.startswith("dai-hoi-cong-doan-co-so-nhiem-ky-2026")
    assert ROOM.fullmatch(room) and "--" not in room
    assert len(room) <= 49
    assert len(new_room_name("x" * 200, "y" * 200)) == 49


def test_room_names_are_unique_well_formed_and_never_reserved():
    titles = ["", "http-bind", "xmpp websocket", "external_api.js", "config.js", "!!!", "🎉"]
    rooms = [new_room_name(titles[i % len(titles)], "") for i in range(1000)]
    assert len(set(rooms)) == 1000
    for room in rooms:
        assert ROOM.fullmatch(room), room
        assert len(room) <= 49
        assert room not in RESERVED_ROOMS
        assert not room.startswith("-") and not room.endswith("-")
    assert new_room_name("🎉", "").startswith("live-")


def test_join_refuses_a_stored_location_that_is_not_a_room():
    with pytest.raises(ValueError):
        Jitsi.join("config.js", LEARNER, SELF_HOSTED, moderator=False)
    with pytest.raises(ValueError):
        Jitsi.join("room?jwt=x", LEARNER, SELF_HOSTED, moderator=False)


# Tokens (LIVE-02, LIVE-03)


def test_token_carries_every_claim():
    now = datetime.now(UTC)
    claims = decode(token_for(TRAINER, moderator=True, now=now))
    assert claims["aud"] == "jitsi"
    assert claims["iss"] == "lms"
    assert claims["sub"] == "meet.congdoan.example"
    assert claims["room"] == "hop-abcdefgh"
    assert claims["nbf"] == int(now.timestamp()) - 10
    assert claims["exp"] == int(now.timestamp()) + 120 * 60
    assert claims["exp"] - claims["nbf"] == 120 * 60 + 10
    assert claims["context"]["user"] == {
        "id": "7",
        "name": "Nguyễn Thị Hoa",
        "email": "hoa@example.vn",
        "affiliation": "owner",
        "moderator": "true",
    }
    assert jwt.get_unverified_header(token_for())["typ"] == "JWT"
    assert jwt.get_unverified_header(token_for())["alg"] == "HS256"


def test_context_user_holds_strings_only_and_drops_an_empty_email():
    for person in (LEARNER, Person(3, None, ""), Person(4, "A", "   ")):
        user = decode(token_for(person))["context"]["user"]
        assert "email" not in user
        assert all(isinstance(value, str) for value in user.values())
        assert None not in user.values()


@pytest.mark.parametrize("moderator", [True, False])
def test_moderator_in_all_three_conventions_only_when_asked(moderator):
    claims = decode(token_for(moderator=moderator))
    assert claims["moderator"] is moderator
    assert claims["context"]["user"]["affiliation"] == ("owner" if moderator else "member")
    assert claims["context"]["user"]["moderator"] == ("true" if moderator else "false")


def test_token_room_claim_is_the_room_joined():
    room_a = Jitsi.prepare("Phiên A", "khoa", "", SELF_HOSTED)
    room_b = Jitsi.prepare("Phiên B", "khoa", "", SELF_HOSTED)
    claims = decode(token_for(room=room_a))
    assert claims["room"] == room_a
    assert claims["room"] != room_b


def test_token_refused_with_alg_none():
    forged = jwt.encode(decode(token_for(moderator=True)), None, algorithm="none")
    with pytest.raises(jwt.InvalidAlgorithmError):
        decode(forged)


def test_token_refused_for_another_audience():
    with pytest.raises(jwt.InvalidAudienceError):
        decode(token_for(), audience="other")


def test_token_refused_once_expired():
    old = datetime.now(UTC) - timedelta(minutes=121)
    with pytest.raises(jwt.ExpiredSignatureError):
        decode(token_for(now=old))


def test_token_refused_with_another_secret():
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token_for(), "x" * 40, algorithms=["HS256"], audience="jitsi")


def test_self_hosted_jitsi_is_embedded_with_a_token_in_the_url():
    joined = Jitsi.join("hop-abcdefgh", TRAINER, SELF_HOSTED, moderator=True)
    assert isinstance(joined, Join)
    assert joined.embed is True
    assert joined.script_url == "https://meet.congdoan.example/external_api.js"
    assert joined.domain == "meet.congdoan.example"
    assert joined.room == "hop-abcdefgh"
    assert joined.url == f"https://meet.congdoan.example/hop-abcdefgh?jwt={joined.token}"


def test_no_token_without_app_id_and_secret():
    for config in ({}, {"JITSI_APP_ID": "lms"}, {"JITSI_APP_SECRET": SECRET}):
        settings = LiveSettings.from_config({"JITSI_DOMAIN": "meet.congdoan.example", **config})
        joined = Jitsi.join("hop-abcdefgh", TRAINER, settings, moderator=True)
        assert joined.token is None
        assert joined.url == "https://meet.congdoan.example/hop-abcdefgh"
        assert joined.embed is True


def test_public_meet_jit_si_opens_in_a_new_tab_without_a_token():
    joined = Jitsi.join("hop-abcdefgh", TRAINER, PUBLIC, moderator=True)
    assert joined == Join(
        url="https://meet.jit.si/hop-abcdefgh",
        embed=False,
        script_url=None,
        domain="meet.jit.si",
        room="hop-abcdefgh",
        token=None,
    )


# Google Meet (INTEROP §1.8, INJ-08)


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://meet.google.com/abc-defg-hij", "https://meet.google.com/abc-defg-hij"),
        ("HTTPS://Meet.Google.com/ABC-DefG-hij", "https://meet.google.com/abc-defg-hij"),
        ("https://meet.google.com/abc-defg-hij/", "https://meet.google.com/abc-defg-hij/"),
        (
            "  https://meet.google.com/abc-defg-hij?authuser=0&hs=122  ",
            "https://meet.google.com/abc-defg-hij?authuser=0&hs=122",
        ),
        ("https://meet.google.com/ab-cdefgh-ijklm", "https://meet.google.com/ab-cdefgh-ijklm"),
    ],
)
def test_google_meet_accepted_forms_are_stored_lowercase(url, stored):
    assert GoogleMeet.prepare("t", "c", url, PUBLIC) == stored


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "missing_url"),
        ("   ", "missing_url"),
        ("http://meet.google.com/abc-defg-hij", "not_https"),
        ("javascript:alert(1)//https://meet.google.com/abc-defg-hij", "not_https"),
        ("https://meet.google.com.evil.example/abc-defg-hij", "bad_google_meet"),
        ("https://evil.example/abc-defg-hij", "bad_google_meet"),
        ("https://meet.google.com/abc-defg-hij#x", "bad_google_meet"),
        ("https://meet.google.com/abc-defg", "bad_google_meet"),
        ("https://meet.google.com/abc-d3fg-hij", "bad_google_meet"),
        ("https://meet.google.com@evil.example/abc-defg-hij", "bad_google_meet"),
        ("https://meet.google.com/abc-defg-hij\nx", "bad_url"),
    ],
)
def test_google_meet_refused_forms(url, code):
    with pytest.raises(LinkError) as refused:
        GoogleMeet.prepare("t", "c", url, PUBLIC)
    assert refused.value.code == code


def test_google_meet_trailing_newline_is_stripped_not_smuggled():
    # A pasted value ends with a newline; it is trimmed, not carried into the stored URL.
    assert GoogleMeet.prepare("t", "c", "https://meet.google.com/abc-defg-hij\n", PUBLIC) == (
        "https://meet.google.com/abc-defg-hij"
    )


def test_google_meet_warns_on_an_unusual_code_shape():
    assert GoogleMeet.code_shape_ok("https://meet.google.com/abc-defg-hij")
    assert GoogleMeet.code_shape_ok("https://meet.google.com/ABC-DEFG-HIJ?authuser=1")
    assert not GoogleMeet.code_shape_ok("https://meet.google.com/ab-cdefgh-ijklm")
    assert not GoogleMeet.code_shape_ok("https://evil.example/abc-defg-hij")


def test_google_meet_opens_in_a_new_tab():
    joined = GoogleMeet.join(
        "https://meet.google.com/abc-defg-hij", LEARNER, PUBLIC, moderator=False
    )
    assert joined.url == "https://meet.google.com/abc-defg-hij"
    assert (joined.embed, joined.script_url, joined.token, joined.room) == (False, None, None, None)
    assert joined.domain == "meet.google.com"


# Other links (INJ-08)


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://zoom.us/j/123456789?pwd=Ab", "https://zoom.us/j/123456789?pwd=Ab"),
        ("https://ZOOM.US/j/1", "https://zoom.us/j/1"),
        ("https://zoom.us./j/1", "https://zoom.us/j/1"),
        ("https://teams.microsoft.com/meet/123", "https://teams.microsoft.com/meet/123"),
        ("https://hop.example:8443/phong", "https://hop.example:8443/phong"),
        ("https://meet.congdoan.example/phong-1", "https://meet.congdoan.example/phong-1"),
    ],
)
def test_other_link_accepted_on_allowlisted_hosts(url, stored):
    assert OtherLink.prepare("t", "c", url, SELF_HOSTED) == stored


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "missing_url"),
        ("javascript:alert(document.cookie)", "not_https"),
        ("JaVaScRiPt:alert(1)", "not_https"),
        ("java\tscript:alert(1)", "not_https"),
        ("data:text/html,<script>alert(1)</script>", "not_https"),
        ("http://zoom.us/j/1", "not_https"),
        ("//zoom.us/j/1", "not_https"),
        ("https://evil.example/j/1", "host_not_allowed"),
        ("https://zoom.us@evil.example/j/1", "host_not_allowed"),
        ("https://evil.example@zoom.us/j/1", "host_not_allowed"),
        ("https://zoom.us.evil.example/j/1", "host_not_allowed"),
        ("https://evil.example#@zoom.us", "host_not_allowed"),
        ("https://evil.example\\@zoom.us", "bad_url"),
        ("https://zoom.us:99999/j/1", "bad_url"),
        ("https:///j/1", "host_not_allowed"),
        ("https://zoom.us/j/1 onclick=x", "bad_url"),
    ],
)
def test_other_link_refused(url, code):
    with pytest.raises(LinkError) as refused:
        OtherLink.prepare("t", "c", url, SELF_HOSTED)
    assert refused.value.code == code


def test_other_link_refused_when_no_host_is_allowed():
    with pytest.raises(LinkError) as refused:
        OtherLink.prepare("t", "c", "https://zoom.us/j/1", PUBLIC)
    assert refused.value.code == "host_not_allowed"
    assert OtherLink.prepare("t", "c", "https://meet.jit.si/phong", PUBLIC) == (
        "https://meet.jit.si/phong"
    )


def test_other_link_idna_hosts_compare_in_punycode():
    settings = LiveSettings.from_config({"LIVE_ALLOWED_HOSTS": "họp.example"})
    assert settings.allowed_hosts == {"xn--hp-68s.example"}
    assert OtherLink.prepare("t", "c", "https://HỌP.example/a", settings) == (
        "https://xn--hp-68s.example/a"
    )


def test_other_link_opens_in_a_new_tab():
    joined = OtherLink.join("https://zoom.us/j/1", LEARNER, SELF_HOSTED, moderator=True)
    assert joined == Join(
        url="https://zoom.us/j/1",
        embed=False,
        script_url=None,
        domain="zoom.us",
        room=None,
        token=None,
    )


def test_settings_repr_hides_the_app_secret():
    assert SECRET not in repr(SELF_HOSTED)
