"""The API keys page's forms; they carry the field and CSRF."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired, Length

from app.forms import Form


class NewApiKeyForm(Form):
    name = StringField(
        "What is the key for?",
        validators=[
            InputRequired("Enter what the key is for, such as the partner app's name."),
            Length(max=200, message="Use at most 200 characters."),
        ],
        render_kw={"autocomplete": "off"},
    )


class RevokeApiKeyForm(Form):
    """Only CSRF: revoking is the button itself."""
