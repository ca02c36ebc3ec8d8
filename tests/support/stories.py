"""One story told by four outlets in both of Serbian's scripts, and another expulsion the same
day: reports for the store, the poller and the digest to group."""

from __future__ import annotations

from datetime import datetime, timedelta

STORY = {
    "N1": (
        "Ruskom aktivisti Ilji Zotovu naloženo da napusti Srbiju",
        "Bezbednosno-informativna agencija ocenila je da ruski aktivista Ilja Zotov predstavlja "
        "bezbednosni rizik, pa mu je otkazan privremeni boravak u Srbiji.",
    ),
    "Danas": (
        "Руском активисти Иљи Зотову наложено да напусти Србију након процене БИА",
        "Безбедносно-информативна агенција оценила је да руски активиста Иља Зотов представља "
        "безбедносни ризик, па му је отказан привремени боравак у Србији, наводе правници.",
    ),
    "Nova": (
        "Ilja Zotov mora da napusti Srbiju: BIA ga smatra bezbednosnim rizikom",
        "Ruskom aktivisti Ilji Zotovu otkazan je privremeni boravak u Srbiji jer ga je "
        "Bezbednosno-informativna agencija ocenila kao bezbednosni rizik, kaže njegov advokat.",
    ),
    "RTS": (
        "Зотову отказан боравак у Србији после безбедносне процене",
        "Руски активиста Иља Зотов мора да напусти Србију јер је Безбедносно-информативна "
        "агенција оценила да представља безбедносни ризик, рекао је његов адвокат.",
    ),
}
OTHER = (
    "Ruskom aktivisti Ruslanu Ahmetovu naloženo da napusti Srbiju",
    "Bezbednosno-informativna agencija ocenila je da ruski aktivista Ruslan Ahmetov predstavlja "
    "bezbednosni rizik, pa mu je otkazan privremeni boravak u Srbiji.",
)


def published(first: datetime) -> dict[str, datetime]:
    """When each outlet published: N1 first, the others within hours."""
    return {outlet: first + timedelta(hours=hours) for hours, outlet in enumerate(STORY)}
