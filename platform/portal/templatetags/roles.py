"""{% if user|is_subject %}: the role checks of accounts.permissions for templates, so no
template compares role strings."""
from django import template

from accounts import permissions

register = template.Library()
register.filter("is_subject", permissions.is_subject)
register.filter("is_creator", permissions.is_creator)
register.filter("can_moderate", permissions.can_moderate)
