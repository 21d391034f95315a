"""A plugin raising an exception whose __str__ fails."""


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


raise Unprintable()
