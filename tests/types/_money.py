"""What the money types' tests share: a sender of one marker, under the default or a chosen profile."""
from __future__ import annotations


def rules_of(verdict) -> set[tuple[str, str]]:
    return {(v.rule, v.path) for v in verdict.violations}


def sender(judge, marker: str):
    return lambda event: judge(event, marker=marker)


def profile_sender(make_judge, marker: str):
    """profile_sender(make_judge, "PAYMENT")("ft")(event): the verdict under a profile, one runtime each."""
    judges = {}

    def for_profile(profile):
        if profile not in judges:
            judges[profile] = make_judge(profile=profile)
        return sender(judges[profile], marker)
    return for_profile
