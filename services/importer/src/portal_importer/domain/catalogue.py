"""The catalogue of the import template's columns, in the order the accountant sees them: one
entry per ClientData field, with its headers, drop-down labels and instructions in fr/nl/en."""

from __future__ import annotations

from portal_importer.domain.column_model import Choice, Column, Kind, _t

YES_NO = (Choice("yes", _t("Oui", "Ja", "Yes")), Choice("no", _t("Non", "Nee", "No")))

_SUBSCRIPTION = (
    Choice(
        "full_follow_up",
        _t(
            "Suivi de documents et transactions",
            "Opvolging van documenten en transacties",
            "Documents and transactions follow-up",
        ),
    ),
    Choice(
        "delivery_only",
        _t(
            "Uniquement livraison des documents",
            "Enkel aanlevering van documenten",
            "Documents delivery only",
        ),
    ),
    Choice(
        "accountant_managed",
        _t(
            "Interne, gérée par le comptable",
            "Intern, beheerd door de boekhouder",
            "Internal, managed by the accountant",
        ),
    ),
)
_VAT_FREQUENCY = (
    Choice("monthly", _t("Mensuelle", "Maandelijks", "Monthly")),
    Choice("quarterly", _t("Trimestrielle", "Driemaandelijks", "Quarterly")),
    Choice("not_liable", _t("Non assujetti", "Niet btw-plichtig", "Not liable")),
)
_LANGUAGE = (
    Choice("fr", _t("Français", "Frans", "French")),
    Choice("nl", _t("Néerlandais", "Nederlands", "Dutch")),
    Choice("en", _t("Anglais", "Engels", "English")),
)
_TRANSFER = (
    Choice("manual", _t("Manuel", "Manueel", "Manual")),
    Choice("email", _t("E-mail", "E-mail", "E-mail")),
    Choice("sftp", _t("FTPs/sFTP", "FTPs/sFTP", "FTPs/sFTP")),
    Choice("onedrive", _t("OneDrive", "OneDrive", "OneDrive")),
    Choice("api", _t("API", "API", "API")),
    Choice("agent", _t("OkiOkiSync", "OkiOkiSync", "OkiOkiSync")),
)
_TIMING = (
    Choice("immediately", _t("Immédiatement", "Onmiddellijk", "Immediately")),
    Choice("after_processing", _t("Après traitement", "Na verwerking", "After processing")),
    Choice("delayed", _t("Différé", "Uitgesteld", "Delayed")),
)
_SOFTWARE = (
    *(
        Choice(value, _t(label, label, label))
        for value, label in (
            ("winbooks", "Winbooks"),
            ("exact_online", "Exact Online"),
            ("octopus", "Octopus"),
            ("yuki", "Yuki"),
            ("basecone", "Basecone"),
            ("zensoft", "Zensoft"),
            ("wings", "Wings"),
            ("clearfacts", "Clearfacts"),
            ("adsolut", "Adsolut"),
            ("expert_m", "Expert/M"),
        )
    ),
    Choice("other", _t("Autre", "Ander", "Other")),
)
_CARD_STATEMENTS = (
    Choice(
        "with_purchases",
        _t("Avec les factures d'achat", "Bij de aankoopfacturen", "With purchase invoices"),
    ),
    Choice(
        "with_misc",
        _t(
            "Avec les documents divers", "Bij de diverse documenten", "With miscellaneous documents"
        ),
    ),
)
_FOLLOW = (
    Choice("no", _t("Non", "Nee", "No")),
    Choice("expenses_only", _t("Dépenses uniquement", "Enkel uitgaven", "Expenses only")),
    Choice("all", _t("Toutes", "Alle", "All")),
)


def _bank(n: int) -> Column:
    return Column(
        f"bank_accounts.{n - 1}",
        _t(f"Compte bancaire {n}", f"Bankrekening {n}", f"Bank account {n}"),
        _t(
            "IBAN du client (obligatoire pour le mode « Interne, gérée par le comptable »).",
            "IBAN van de klant (verplicht voor de vorm « Intern, beheerd door de boekhouder »).",
            "The client's IBAN (required for the mode “Internal, managed by the accountant”).",
        ),
        as_text=True,
        width=24,
        example="BE68 5390 0754 7034" if n == 1 else "",
    )


def _ledger(n: int) -> tuple[Column, ...]:
    base = f"sales_ledger_accounts.{n - 1}"
    return (
        Column(
            f"{base}.code",
            _t(
                f"Compte de vente {n} - numéro",
                f"Verkooprekening {n} - nummer",
                f"Sales account {n} - number",
            ),
            _t(
                "Compte du grand livre pour les factures de vente (ex. 700000).",
                "Grootboekrekening voor verkoopfacturen (bv. 700000).",
                "General-ledger account for sales invoices (e.g. 700000).",
            ),
            as_text=True,
            example="700000" if n == 1 else "",
        ),
        Column(
            f"{base}.label",
            _t(
                f"Compte de vente {n} - libellé",
                f"Verkooprekening {n} - omschrijving",
                f"Sales account {n} - label",
            ),
            _t("Libellé du compte.", "Omschrijving van de rekening.", "The account's label."),
            example="Ventes" if n == 1 else "",
        ),
        Column(
            f"{base}.default",
            _t(
                f"Compte de vente {n} - par défaut",
                f"Verkooprekening {n} - standaard",
                f"Sales account {n} - default",
            ),
            _t(
                "Oui pour le compte proposé par défaut (un seul si plusieurs comptes).",
                "Ja voor de standaard voorgestelde rekening (slechts één bij meerdere rekeningen).",
                "Yes for the account offered by default (only one when there are several).",
            ),
            kind=Kind.YES_NO,
            choices=YES_NO,
            width=14,
        ),
    )


_EMAIL_HELP = _t(
    "Adresse e-mail du logiciel comptable (transfert par e-mail).",
    "E-mailadres van het boekhoudpakket (overdracht per e-mail).",
    "The accounting software's e-mail address (transfer by e-mail).",
)

CATALOGUE: tuple[Column, ...] = (
    Column(
        "company.vat_number",
        _t("Numéro de TVA", "Btw-nummer", "VAT number"),
        _t(
            "Numéro de TVA de l'entreprise, ex. BE0403.170.701 (le préfixe BE est facultatif).",
            "Btw-nummer van de onderneming, bv. BE0403.170.701 (het voorvoegsel BE is optioneel).",
            "The company's VAT number, e.g. BE0403.170.701 (the BE prefix is optional).",
        ),
        required=True,
        as_text=True,
        width=18,
        example="BE0403.170.701",
        aliases=("TVA", "BTW", "VAT", "N° TVA", "Numéro TVA", "BTW nummer"),
    ),
    Column(
        "skip_vat_check",
        _t(
            "Ne pas vérifier le numéro de TVA",
            "Btw-nummer niet controleren",
            "Don't check the VAT number",
        ),
        _t(
            "Oui si vous êtes sûr des données : le numéro n'est pas vérifié dans le registre (BCE/VIES), "
            "par exemple pour une entreprise qui vient d'être créée. Le chiffre de contrôle est toujours vérifié.",
            "Ja als u zeker bent van de gegevens: het nummer wordt niet in het register (KBO/VIES) gecontroleerd, "
            "bijvoorbeeld voor een pas opgerichte onderneming. Het controlegetal wordt altijd gecontroleerd.",
            "Yes if you are sure of the data: the number is not checked in the register (KBO/VIES), "
            "e.g. for a company just founded. The check digits are always checked.",
        ),
        kind=Kind.YES_NO,
        choices=YES_NO,
        width=14,
        example="no",
        aliases=(
            "Ne vérifiez pas le numéro de TVA",
            "Controleer het btw-nummer niet",
            "Skip VAT check",
        ),
    ),
    Column(
        "company.name",
        _t("Nom de la société", "Bedrijfsnaam", "Company name"),
        _t(
            "Le nom que le client voit dans son app.",
            "De naam die de klant in zijn app ziet.",
            "The name the client sees in the app.",
        ),
        required=True,
        width=28,
        example="Exemple SRL",
        aliases=("Nom de la compagnie", "Nom de l'entreprise", "Naam onderneming", "Company"),
    ),
    Column(
        "company.vat_frequency",
        _t("Fréquence de soumission de la TVA", "Frequentie btw-aangifte", "VAT filing frequency"),
        _t(
            "Mensuelle, trimestrielle ou non assujetti.",
            "Maandelijks, driemaandelijks of niet btw-plichtig.",
            "Monthly, quarterly or not liable.",
        ),
        kind=Kind.CHOICE,
        choices=_VAT_FREQUENCY,
        required=True,
        example="quarterly",
        aliases=("Fréquence TVA", "Btw-frequentie", "VAT frequency"),
    ),
    Column(
        "company.internal_reference",
        _t("Référence client (interne)", "Klantreferentie (intern)", "Client reference (internal)"),
        _t(
            "Votre numéro de client interne (facultatif, 50 caractères au plus).",
            "Uw intern klantnummer (optioneel, hoogstens 50 tekens).",
            "Your internal client number (optional, at most 50 characters).",
        ),
        as_text=True,
        example="C-0001",
        aliases=("Référence client", "Référence interne", "Klantreferentie", "Internal reference"),
    ),
    Column(
        "company.subscription_mode",
        _t("Mode d'abonnement", "Abonnementsvorm", "Subscription mode"),
        _t(
            "La variante activée pour ce client.",
            "De variant die voor deze klant geactiveerd wordt.",
            "The variant enabled for this client.",
        ),
        kind=Kind.CHOICE,
        choices=_SUBSCRIPTION,
        required=True,
        width=34,
        example="accountant_managed",
        aliases=("Abonnement", "Subscription"),
    ),
    Column(
        "company.coda_plus",
        _t("CODA+", "CODA+", "CODA+"),
        _t("Oui pour activer CODA+.", "Ja om CODA+ te activeren.", "Yes to enable CODA+."),
        kind=Kind.YES_NO,
        choices=YES_NO,
        width=10,
        example="no",
    ),
    Column(
        "user.first_name",
        _t("Prénom", "Voornaam", "First name"),
        _t("Prénom de l'utilisateur.", "Voornaam van de gebruiker.", "The user's first name."),
        required=True,
        example="Jean",
    ),
    Column(
        "user.last_name",
        _t("Nom de famille", "Achternaam", "Last name"),
        _t(
            "Nom de famille de l'utilisateur.",
            "Achternaam van de gebruiker.",
            "The user's last name.",
        ),
        required=True,
        example="Dupont",
        aliases=("Nom", "Naam", "Familienaam", "Surname"),
    ),
    Column(
        "user.email",
        _t("Adresse e-mail", "E-mailadres", "E-mail address"),
        _t(
            "Adresse de connexion du client ; unique sur toute la plateforme.",
            "Aanmeldadres van de klant; uniek op het hele platform.",
            "The client's sign-in address; unique across the whole platform.",
        ),
        required=True,
        width=30,
        example="jean.dupont@exemple.be",
        aliases=("E-mail", "Email", "Courriel", "Mail"),
    ),
    Column(
        "user.mobile_phone",
        _t("Numéro de téléphone mobile", "Gsm-nummer", "Mobile phone number"),
        _t(
            "Numéro mobile, ex. +32 478 11 22 33.",
            "Gsm-nummer, bv. +32 478 11 22 33.",
            "Mobile number, e.g. +32 478 11 22 33.",
        ),
        required=True,
        as_text=True,
        example="+32 478 11 22 33",
        aliases=("Téléphone mobile", "GSM", "Mobiel nummer", "Mobile phone", "Mobile"),
    ),
    Column(
        "user.language",
        _t("Langue", "Taal", "Language"),
        _t(
            "Langue de l'app et des e-mails envoyés au client.",
            "Taal van de app en van de e-mails aan de klant.",
            "Language of the app and of the e-mails sent to the client.",
        ),
        kind=Kind.CHOICE,
        choices=_LANGUAGE,
        required=True,
        width=14,
        example="fr",
    ),
    _bank(1),
    _bank(2),
    _bank(3),
    Column(
        "group_id",
        _t("Groupe", "Groep", "Group"),
        _t(
            "Groupe du client ; vide = « Everyone ».",
            "Groep van de klant; leeg = « Everyone ».",
            "The client's group; empty = “Everyone”.",
        ),
        kind=Kind.GROUP,
        example="",
    ),
    Column(
        "integration.target.kind",
        _t("Transfert des documents", "Overdracht van documenten", "Document transfer"),
        _t(
            "Comment les documents rejoignent votre logiciel comptable (selon vos paramètres généraux).",
            "Hoe de documenten uw boekhoudpakket bereiken (volgens uw algemene instellingen).",
            "How documents reach your accounting software (per your general settings).",
        ),
        kind=Kind.CHOICE,
        choices=_TRANSFER,
        example="manual",
        aliases=("Transfert", "Overdracht", "Transfer method"),
    ),
    Column(
        "integration.target.connection",
        _t("Nom de la connexion", "Naam van de verbinding", "Connection name"),
        _t(
            "Connexion sFTP ou OkiOkiSync des paramètres généraux.",
            "sFTP- of OkiOkiSync-verbinding uit de algemene instellingen.",
            "The sFTP or OkiOkiSync connection from the general settings.",
        ),
    ),
    Column(
        "integration.target.folder",
        _t("Dossier", "Map", "Folder"),
        _t(
            "Dossier de destination pour cette société (sFTP, OneDrive, OkiOkiSync) ; chemin relatif.",
            "Doelmap voor deze onderneming (sFTP, OneDrive, OkiOkiSync); relatief pad.",
            "Destination folder for this company (sFTP, OneDrive, OkiOkiSync); a relative path.",
        ),
        aliases=("Nom du dossier sFTP", "Folder name"),
    ),
    Column(
        "integration.target.all",
        _t(
            "E-mail pour tous les documents",
            "E-mail voor alle documenten",
            "E-mail for all documents",
        ),
        _EMAIL_HELP,
        width=28,
    ),
    Column(
        "integration.target.purchase",
        _t("E-mail factures d'achat", "E-mail aankoopfacturen", "E-mail purchase invoices"),
        _EMAIL_HELP,
        width=28,
    ),
    Column(
        "integration.target.sales",
        _t("E-mail factures de vente", "E-mail verkoopfacturen", "E-mail sales invoices"),
        _EMAIL_HELP,
        width=28,
    ),
    Column(
        "integration.target.misc",
        _t(
            "E-mail documents divers", "E-mail diverse documenten", "E-mail miscellaneous documents"
        ),
        _EMAIL_HELP,
        width=28,
    ),
    Column(
        "integration.timing.when",
        _t("Moment d'envoi", "Tijdstip van verzending", "When to send"),
        _t(
            "Vide = suivre les paramètres généraux.",
            "Leeg = de algemene instellingen volgen.",
            "Empty = follow the general settings.",
        ),
        kind=Kind.CHOICE,
        choices=_TIMING,
    ),
    Column(
        "integration.timing.delay_days",
        _t("Délai d'envoi (jours)", "Uitstel (dagen)", "Delay (days)"),
        _t(
            "Nombre de jours (1 à 365) si l'envoi est différé.",
            "Aantal dagen (1 tot 365) bij uitgestelde verzending.",
            "Number of days (1 to 365) when sending is delayed.",
        ),
        kind=Kind.INTEGER,
        width=14,
    ),
    Column(
        "integration.accounting_software",
        _t("Logiciel comptable", "Boekhoudpakket", "Accounting software"),
        _t(
            "Obligatoire sauf transfert manuel : décide du format UBL.",
            "Verplicht behalve bij manuele overdracht: bepaalt het UBL-formaat.",
            "Required unless the transfer is manual: decides the UBL flavour.",
        ),
        kind=Kind.CHOICE,
        choices=_SOFTWARE,
    ),
    Column(
        "integration.credit_card_statements",
        _t("Relevés de carte de crédit", "Kredietkaartafrekeningen", "Credit-card statements"),
        _t(
            "Où placer les relevés de carte de crédit.",
            "Waar de kredietkaartafrekeningen terechtkomen.",
            "Where credit-card statements go.",
        ),
        kind=Kind.CHOICE,
        choices=_CARD_STATEMENTS,
        width=28,
    ),
    *_ledger(1),
    *_ledger(2),
    Column(
        "task_list.follow_from",
        _t("Suivi à partir du", "Opvolging vanaf", "Follow up from"),
        _t(
            "Date de début du suivi (au plus 90 jours en arrière) ; vide = date d'enregistrement.",
            "Startdatum van de opvolging (hoogstens 90 dagen terug); leeg = registratiedatum.",
            "Follow-up start date (at most 90 days back); empty = registration date.",
        ),
        kind=Kind.DATE,
        width=16,
    ),
    Column(
        "task_list.follow_transactions_without_documents",
        _t(
            "Suivre les transactions sans documents",
            "Transacties zonder documenten opvolgen",
            "Follow transactions without documents",
        ),
        _t(
            "Non, dépenses uniquement ou toutes.",
            "Nee, enkel uitgaven of alle.",
            "No, expenses only or all.",
        ),
        kind=Kind.CHOICE,
        choices=_FOLLOW,
        width=24,
    ),
    Column(
        "task_list.hide_documents_without_transactions",
        _t(
            "Masquer les documents sans transaction",
            "Documenten zonder transactie verbergen",
            "Hide documents without transactions",
        ),
        _t("Rarement utilisé.", "Zelden gebruikt.", "Rarely used."),
        kind=Kind.YES_NO,
        choices=YES_NO,
        width=16,
    ),
    Column(
        "invite",
        _t("Inviter immédiatement", "Onmiddellijk uitnodigen", "Invite right away"),
        _t(
            "Oui pour envoyer l'invitation dès l'importation.",
            "Ja om de uitnodiging meteen na de import te versturen.",
            "Yes to send the invitation as soon as the import is done.",
        ),
        kind=Kind.YES_NO,
        choices=YES_NO,
        width=14,
        example="no",
        aliases=("Inviter", "Uitnodigen", "Invite"),
    ),
)
