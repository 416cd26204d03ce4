"""Which texts must exist in which languages (checked by the tests)."""

from __future__ import annotations

STAFF_COMPLETE = ["nb", "nn", "en", "sv"]
FAMILY_ONLY = ["ar", "so", "pl", "uk", "ti"]

# Everything a family or borrower sees: these templates, plus the messages they receive.
FAMILY_TEMPLATES = [
    "base.html", "macros/forms.html", "core/home.html", "core/accessibility.html",
    "portal/family_card.html", "cards/apply.html", "cards/applied.html", "portal/scan_landing.html",
    "partners/catalogue.html", "partners/offer_page.html", "utstyr/public.html",
    "errors/400.html", "errors/401.html", "errors/403.html", "errors/404.html", "errors/405.html",
    "errors/429.html", "errors/500.html", "errors/503.html", "errors/domain.html", "core/choose_municipality.html",
    "wishes/code.html", "wishes/answer.html", "wishes/answered.html", "wishes/public.html",
]
FAMILY_MESSAGES = [
    "Kommune",  # the /kommune chooser on the way to the application form
    "Hei! Her er opplevelseskortet til %(name)s. Åpne lenken og vis QR-koden når dere kommer: %(link)s",
    "Opplevelseskortet til %(name)s",
    "%(name)s har fått plass",
    "Det ble en ledig plass: %(name)s har fått plass på %(offer)s %(date)s.",
    "Svar på søknaden om opplevelseskort",
    "Hei %(name)s. Vi kan dessverre ikke gi opplevelseskort denne gangen. Kommunen skrev, på norsk: «%(reason)s»",
    "Husk å levere utstyret i morgen",
    "Hei! Utstyret du lånte fra %(place)s skal leveres %(date)s.",
    "Utstyret skulle vært levert",
    "Hei! Utstyret du lånte fra %(place)s skulle vært levert %(date)s. Lever det så snart du kan.",
    "Du har fått plass.",
    "Det er fullt. Du står på venteliste som nummer %(n)d. Du får beskjed hvis du får plass.",
    "Påmeldingen er avbestilt.",
    "Du må samtykke før vi kan ta imot søknaden.",
    # a wish round: the notice, the answer form and what it answers (wishes/notice.py, wishes/services.py)
    "Om ønskerunden",
    "Kommunen spør barn hvilke fritidsaktiviteter de har lyst til å prøve, slik at klubber og lag kan lage tilbud "
    "som barna ønsker seg.",
    "Du svarer uten navn. Ingen kan se hva akkurat du svarte, heller ikke læreren eller kommunen. Vi viser bare tall "
    "for mange barn sammen.",
    "Svarene slettes når resultatene er publisert, senest %(date)s.",
    "Svarene slettes når resultatene er publisert, senest 30 dager etter at runden stenger.",
    "Det er frivillig å svare. Foreldre som ikke vil at barnet skal svare, kan si fra til læreren, eller slå av ønsker "
    "på barnets kortside.",
    "Ja", "Nei", "Det spiller ingen rolle", "Etter skolen", "I helgene", "I feriene", "Koden fra arket",
    "Hva vil du prøve? Velg opptil fem.", "Vil du gjøre det sammen med en venn?", "Når passer det?",
    "Noe annet? Skriv det her (ikke skriv navn)", "Ikke spør barnet mitt om ønsker", "Velg minst én aktivitet.",
    "Velg høyst %(n)d aktiviteter.", "Ukjent aktivitet.", "Ukjent tidspunkt.", "Denne runden har ikke fritekst.",
    "Ønskerunden er ikke åpen nå.", "Ukjent kode. Sjekk at du skrev den riktig.",
    "Denne koden er allerede brukt. Hver kode kan svare én gang.", "Du har allerede svart i denne runden. Takk!",
    "Denne ønskerunden er ikke åpen for dette kortet.", "Takk for svaret ditt!", "Ønsker", "Si hva du vil prøve",
    "Du har svart. Takk!", "Nytt fordi barn ønsket det", "Lagre", "Lagret.",
]

# What a family holds on paper (cards/pdf.py: the card and the hand-over sheet), in every family language.
FAMILY_DOCUMENTS = [
    "Opplevelseskortet",
    "Opplevelseskortet til %(name)s",
    "Gyldig til %(date)s",
    "Ledsagere: %(n)d",
    "Med kortet kan %(name)s være med på aktiviteter og låne utstyr uten å betale.",
    "Skann QR-koden med telefonen, eller skriv inn lenken under. Da åpnes kortet, og dere ser hva dere kan bruke det "
    "til.",
    "Vis kortet når dere kommer: på telefonen, eller på papir. Klipp ut kortet nederst på arket.",
    "Har dere spørsmål, ta kontakt med kommunen.",
    "Lenken til kortet",
]
