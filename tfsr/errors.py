"""The one exception type that means "the user gave us something wrong".

Command-line tools catch `UserError` and print its message on one line with
exit code 2; everything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input from the user: a flag, a file, a value. The message names it."""
