from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from app.forms import Form


class LoginForm(Form):
    email = EmailField(
        _l("Email address"),
        validators=[
            InputRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
        ],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Enter your password.")),
            Length(max=200, message=_l("A password has at most 200 characters.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
