"""All user-facing wording, in one place, split by audience (STYLE.md 10).

Tone: plain English, say what to change. Tests call these functions rather than copying text.
Callers write ``wording.<name>``; each name lives in the module of its audience.
"""

# ruff: noqa: F403

from kernel.wording.chat import *
from kernel.wording.common import *
from kernel.wording.files import *
from kernel.wording.forms import *
from kernel.wording.history import *
from kernel.wording.issues import *
from kernel.wording.operator import *
from kernel.wording.questions import *
from kernel.wording.registry import *
from kernel.wording.reminders import *
from kernel.wording.replies import *
from kernel.wording.reports import *
from kernel.wording.workbooks import *
