"""Issue 17, finding 2: the Rasa API token was on the command line (`ps` showed it)."""
import pytest

from bot.rasa_server import with_token
from bot.stack import Ports, default_specs, stack_env


def test_token_is_added_in_process_from_the_environment():
    args = with_token(["run", "--enable-api", "--port", "5005"], {"PAYLATER_RASA_TOKEN": "t0k"})
    assert args[-1] == "--auth-token=t0k"


@pytest.mark.parametrize("token", ["t0k", "-starts-with-a-dash", "--two", "_x"])
def test_rasa_reads_any_urlsafe_token(token):
    """token_urlsafe() starts with "-" one time in 64: as a separate word argparse took it for an
    option and Rasa refused to start ("argument -t/--auth-token: expected one argument")."""
    from rasa.__main__ import create_argument_parser

    args = with_token(["run", "--enable-api", "--port", "5005"], {"PAYLATER_RASA_TOKEN": token})
    assert create_argument_parser().parse_args(args).auth_token == token


def test_api_is_not_enabled_without_a_token():
    with pytest.raises(SystemExit):
        with_token(["run", "--enable-api"], {})


def test_other_commands_are_untouched():
    assert with_token(["shell", "--model", "m"], {}) == ["shell", "--model", "m"]
    assert with_token(["run"], {}) == ["run"]


def test_no_secret_on_any_command_line_of_the_stack():
    env = stack_env(base={"PATH": "/usr/bin"}, demo=True, ports=Ports())
    secrets = [env[k] for k in ("PAYLATER_RASA_TOKEN", "PAYLATER_ACTION_TOKEN", "PAYLATER_JWT_SECRET",
                                "PAYLATER_SERVICE_TOKEN")]
    for spec in default_specs(env, Ports()):
        argv = " ".join(spec.argv)
        assert not any(s in argv for s in secrets), spec.name
        assert "--auth-token" not in argv
    names = {s.name: s.argv for s in default_specs(env, Ports())}
    assert "bot.action_server" in names["actions"]
