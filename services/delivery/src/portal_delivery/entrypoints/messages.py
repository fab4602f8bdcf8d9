"""The delivery service's problem codes and the accountant-facing reasons of failed attempts,
in French, Dutch and English."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "connection.not_found": {
        "fr": "Cette connexion n'existe pas.",
        "nl": "Deze verbinding bestaat niet.",
        "en": "This connection does not exist.",
    },
    "connection.admin_only": {
        "fr": "Seul un administrateur du bureau gère les connexions.",
        "nl": "Alleen een beheerder van het kantoor beheert de verbindingen.",
        "en": "Only an office administrator manages connections.",
    },
    "connection.invalid": {
        "fr": "La connexion n'est pas valable ; corrigez les champs indiqués.",
        "nl": "De verbinding is niet geldig; verbeter de aangeduide velden.",
        "en": "The connection is not valid; correct the fields shown.",
    },
    "connection.in_use": {
        "fr": "{clients} client(s) envoient encore leurs documents par cette connexion : choisissez-leur une autre méthode ou connexion avant de la supprimer.",
        "nl": "{clients} klant(en) versturen hun documenten nog via deze verbinding: kies voor hen een andere methode of verbinding voor u ze verwijdert.",
        "en": "{clients} client(s) still send their documents through this connection: give them another method or connection before you delete it.",
    },
    "connection.name_taken": {
        "fr": "Une connexion porte déjà ce nom ; choisissez-en un autre.",
        "nl": "Er bestaat al een verbinding met deze naam; kies een andere.",
        "en": "A connection already has this name; choose another one.",
    },
    "connection.name_invalid": {
        "fr": "Nom de connexion invalide : 1 à 64 lettres, chiffres, espaces, points ou tirets.",
        "nl": "Ongeldige verbindingsnaam: 1 tot 64 letters, cijfers, spaties, punten of streepjes.",
        "en": "Invalid connection name: 1 to 64 letters, digits, spaces, dots or hyphens.",
    },
    "connection.required": {
        "fr": "Champ obligatoire.",
        "nl": "Verplicht veld.",
        "en": "Required field.",
    },
    "connection.unknown_field": {
        "fr": "Champ inconnu pour ce type de connexion.",
        "nl": "Onbekend veld voor dit soort verbinding.",
        "en": "Unknown field for this kind of connection.",
    },
    "connection.port_invalid": {
        "fr": "Port invalide (1 à 65535).",
        "nl": "Ongeldige poort (1 tot 65535).",
        "en": "Invalid port (1 to 65535).",
    },
    "connection.host_invalid": {
        "fr": "Nom de serveur invalide (par ex. sftp.monbureau.be).",
        "nl": "Ongeldige servernaam (bv. sftp.mijnkantoor.be).",
        "en": "Invalid server name (e.g. sftp.myoffice.be).",
    },
    "connection.host_key_invalid": {
        "fr": "Clé d'hôte invalide : collez la ligne « ssh-ed25519 AAAA… » du serveur, ou utilisez « tester la connexion » puis acceptez la clé affichée.",
        "nl": "Ongeldige hostsleutel: plak de regel 'ssh-ed25519 AAAA…' van de server, of gebruik 'verbinding testen' en aanvaard de getoonde sleutel.",
        "en": "Invalid host key: paste the server's 'ssh-ed25519 AAAA…' line, or use 'test connection' and accept the key shown.",
    },
    "connection.username_invalid": {
        "fr": "Nom d'utilisateur invalide.",
        "nl": "Ongeldige gebruikersnaam.",
        "en": "Invalid user name.",
    },
    "connection.guid_invalid": {
        "fr": "Identifiant invalide (un GUID comme 00000000-0000-0000-0000-000000000000).",
        "nl": "Ongeldige id (een GUID zoals 00000000-0000-0000-0000-000000000000).",
        "en": "Invalid id (a GUID like 00000000-0000-0000-0000-000000000000).",
    },
    "connection.drive_invalid": {
        "fr": "Identifiant de lecteur OneDrive invalide.",
        "nl": "Ongeldige OneDrive-schijf-id.",
        "en": "Invalid OneDrive drive id.",
    },
    "connection.sftp_credentials_required": {
        "fr": "Indiquez un mot de passe ou une clé privée.",
        "nl": "Geef een wachtwoord of een private sleutel op.",
        "en": "Give a password or a private key.",
    },
    "connection.private_key_invalid": {
        "fr": "Clé privée invalide (format OpenSSH ou PEM attendu).",
        "nl": "Ongeldige private sleutel (OpenSSH- of PEM-formaat verwacht).",
        "en": "Invalid private key (OpenSSH or PEM format expected).",
    },
    "connection.clearfacts_token_invalid": {
        "fr": "Un jeton Clearfacts compte exactement 80 caractères ; copiez-le à nouveau depuis Clearfacts (Profil → Intégrations).",
        "nl": "Een Clearfacts-token telt precies 80 tekens; kopieer het opnieuw uit Clearfacts (Profiel → Integraties).",
        "en": "A Clearfacts token is exactly 80 characters; copy it again from Clearfacts (Profile → Integrations).",
    },
    "connection.sender_invalid": {
        "fr": "Adresse d'expédition invalide.",
        "nl": "Ongeldig afzenderadres.",
        "en": "Invalid sender address.",
    },
    "connection.display_name_invalid": {
        "fr": "Nom d'expéditeur invalide (100 caractères au plus, sur une ligne).",
        "nl": "Ongeldige afzendernaam (hoogstens 100 tekens, op één regel).",
        "en": "Invalid sender name (at most 100 characters, on one line).",
    },
    "delivery.not_found": {
        "fr": "Envoi introuvable.",
        "nl": "Verzending niet gevonden.",
        "en": "Delivery not found.",
    },
    "delivery.not_retryable": {
        "fr": "Seul un envoi en échec peut être relancé.",
        "nl": "Alleen een mislukte verzending kan opnieuw gestart worden.",
        "en": "Only a failed delivery can be retried.",
    },
    "cursor.invalid": {
        "fr": "Curseur invalide.",
        "nl": "Ongeldige cursor.",
        "en": "Invalid cursor.",
    },
    # Why an attempt failed, as an accountant reads it.
    "email.no_address": {
        "fr": "Aucune adresse e-mail n'est configurée pour ce type de document chez ce client.",
        "nl": "Er is bij deze klant geen e-mailadres ingesteld voor dit soort document.",
        "en": "No e-mail address is set for this kind of document for this client.",
    },
    "email.too_large": {
        "fr": "Le document est trop volumineux pour la boîte de réception du logiciel comptable.",
        "nl": "Het document is te groot voor de mailbox van het boekhoudpakket.",
        "en": "The document is too large for the accounting software's mailbox.",
    },
    "email.deferred": {
        "fr": "Le serveur de courrier a reporté l'envoi ; nouvel essai automatique.",
        "nl": "De mailserver heeft de verzending uitgesteld; automatisch nieuwe poging.",
        "en": "The mail server deferred the message; it is retried automatically.",
    },
    "email.rejected": {
        "fr": "L'adresse de destination a refusé le message ; vérifiez l'adresse du logiciel comptable.",
        "nl": "Het bestemmingsadres weigerde het bericht; controleer het adres van het boekhoudpakket.",
        "en": "The destination address refused the message; check the accounting software's address.",
    },
    "email.relay_unreachable": {
        "fr": "Le serveur d'envoi n'a pas pu être joint ; nouvel essai automatique.",
        "nl": "De verzendserver was niet bereikbaar; automatisch nieuwe poging.",
        "en": "The sending server could not be reached; it is retried automatically.",
    },
    "sftp.connection_unknown": {
        "fr": "La connexion sFTP indiquée pour ce client n'existe pas (paramètres généraux → connexions).",
        "nl": "De sFTP-verbinding van deze klant bestaat niet (algemene instellingen → verbindingen).",
        "en": "The sFTP connection set for this client does not exist (general settings → connections).",
    },
    "sftp.host_key_missing": {
        "fr": "La clé du serveur sFTP n'est pas encore confirmée : testez la connexion et acceptez la clé affichée.",
        "nl": "De sleutel van de sFTP-server is nog niet bevestigd: test de verbinding en aanvaard de getoonde sleutel.",
        "en": "The sFTP server's key is not confirmed yet: test the connection and accept the key shown.",
    },
    "sftp.host_key_mismatch": {
        "fr": "Le serveur sFTP présente une autre clé que celle confirmée : rien n'a été envoyé. Vérifiez le serveur avec votre informaticien.",
        "nl": "De sFTP-server toont een andere sleutel dan de bevestigde: er is niets verzonden. Controleer de server met uw IT-verantwoordelijke.",
        "en": "The sFTP server shows a different key than the one confirmed: nothing was sent. Check the server with your IT contact.",
    },
    "sftp.login_refused": {
        "fr": "Le serveur sFTP a refusé l'identifiant ou le mot de passe / la clé.",
        "nl": "De sFTP-server weigerde de gebruikersnaam of het wachtwoord / de sleutel.",
        "en": "The sFTP server refused the user name or the password / key.",
    },
    "sftp.folder_refused": {
        "fr": "Le serveur sFTP refuse d'écrire dans ce dossier.",
        "nl": "De sFTP-server weigert in deze map te schrijven.",
        "en": "The sFTP server refuses to write in this folder.",
    },
    "sftp.folder_missing": {
        "fr": "Le dossier de base n'existe pas sur le serveur sFTP.",
        "nl": "De basismap bestaat niet op de sFTP-server.",
        "en": "The base folder does not exist on the sFTP server.",
    },
    "sftp.disk_full": {
        "fr": "Le serveur sFTP n'a plus de place ; nouvel essai automatique.",
        "nl": "De sFTP-server is vol; automatisch nieuwe poging.",
        "en": "The sFTP server is full; it is retried automatically.",
    },
    "sftp.unreachable": {
        "fr": "Le serveur sFTP n'a pas pu être joint ; nouvel essai automatique.",
        "nl": "De sFTP-server was niet bereikbaar; automatisch nieuwe poging.",
        "en": "The sFTP server could not be reached; it is retried automatically.",
    },
    "sftp.failed": {
        "fr": "L'envoi sFTP a échoué ; nouvel essai automatique.",
        "nl": "De sFTP-verzending is mislukt; automatisch nieuwe poging.",
        "en": "The sFTP transfer failed; it is retried automatically.",
    },
    "destination.paused": {
        "fr": "Cette destination échoue de manière répétée ; les envois sont mis en pause puis repris automatiquement.",
        "nl": "Deze bestemming faalt herhaaldelijk; de verzendingen worden gepauzeerd en daarna automatisch hervat.",
        "en": "This destination keeps failing; deliveries are paused, then resumed automatically.",
    },
    "document.deleted": {
        "fr": "Le document a été supprimé avant son envoi ; il n'est pas envoyé.",
        "nl": "Het document werd verwijderd vóór de verzending; het wordt niet verzonden.",
        "en": "The document was deleted before it was sent; it is not sent.",
    },
    # Connections of the remote channels.
    "connection.onedrive_credentials_required": {
        "fr": "Indiquez le secret client de l'application ou son certificat (clé privée et certificat PEM).",
        "nl": "Geef het clientgeheim van de toepassing of haar certificaat (private sleutel en PEM-certificaat).",
        "en": "Give the application's client secret or its certificate (private key and PEM certificate).",
    },
    "connection.certificate_invalid": {
        "fr": "Certificat invalide : collez la clé privée et le certificat au format PEM.",
        "nl": "Ongeldig certificaat: plak de private sleutel en het certificaat in PEM-formaat.",
        "en": "Invalid certificate: paste the private key and the certificate in PEM format.",
    },
    "connection.kind_taken": {
        "fr": "Le bureau a déjà une connexion de ce type ; modifiez-la plutôt que d'en créer une seconde.",
        "nl": "Het kantoor heeft al een verbinding van dit soort; wijzig die in plaats van een tweede te maken.",
        "en": "The office already has a connection of this kind; edit it instead of making a second one.",
    },
    # OneDrive / SharePoint.
    "onedrive.connection_unknown": {
        "fr": "Aucune connexion OneDrive n'est configurée pour le bureau (paramètres généraux → connexions).",
        "nl": "Er is geen OneDrive-verbinding ingesteld voor het kantoor (algemene instellingen → verbindingen).",
        "en": "No OneDrive connection is set for the office (general settings → connections).",
    },
    "onedrive.consent_missing": {
        "fr": "L'administrateur Microsoft 365 du bureau n'a pas encore accordé l'accès à l'application : ouvrez le lien de consentement de la connexion.",
        "nl": "De Microsoft 365-beheerder van het kantoor heeft de toepassing nog geen toegang verleend: open de toestemmingslink van de verbinding.",
        "en": "The office's Microsoft 365 administrator has not granted the application access yet: open the connection's consent link.",
    },
    "onedrive.credentials_refused": {
        "fr": "Microsoft refuse l'identifiant ou le secret (ou le certificat) de l'application ; vérifiez-les (un secret expire).",
        "nl": "Microsoft weigert de id of het geheim (of het certificaat) van de toepassing; controleer ze (een geheim vervalt).",
        "en": "Microsoft refuses the application's id or secret (or certificate); check them (a secret expires).",
    },
    "onedrive.access_denied": {
        "fr": "L'application n'a pas le droit d'écrire dans ce lecteur ou ce site ; vérifiez ses autorisations.",
        "nl": "De toepassing mag niet schrijven in deze schijf of deze site; controleer haar machtigingen.",
        "en": "The application may not write to this drive or site; check its permissions.",
    },
    "onedrive.not_found": {
        "fr": "Le lecteur ou le dossier OneDrive indiqué n'existe pas.",
        "nl": "De opgegeven OneDrive-schijf of -map bestaat niet.",
        "en": "The OneDrive drive or folder given does not exist.",
    },
    "onedrive.throttled": {
        "fr": "Microsoft limite temporairement les envois (throttling) ; nouvel essai automatique après le délai demandé.",
        "nl": "Microsoft beperkt de verzendingen tijdelijk (throttling); automatisch nieuwe poging na de gevraagde wachttijd.",
        "en": "Microsoft is throttling the uploads for now; it is retried automatically after the wait it asked for.",
    },
    "onedrive.drive_full": {
        "fr": "Le lecteur OneDrive est plein ; nouvel essai automatique.",
        "nl": "De OneDrive-schijf is vol; automatisch nieuwe poging.",
        "en": "The OneDrive drive is full; it is retried automatically.",
    },
    "onedrive.unavailable": {
        "fr": "OneDrive n'a pas accepté l'envoi pour le moment ; nouvel essai automatique.",
        "nl": "OneDrive aanvaardde de verzending voorlopig niet; automatisch nieuwe poging.",
        "en": "OneDrive did not take the upload for now; it is retried automatically.",
    },
    "onedrive.unreachable": {
        "fr": "Microsoft n'a pas pu être joint ; nouvel essai automatique.",
        "nl": "Microsoft was niet bereikbaar; automatisch nieuwe poging.",
        "en": "Microsoft could not be reached; it is retried automatically.",
    },
    "onedrive.rejected": {
        "fr": "OneDrive a refusé le fichier : « {detail} ».",
        "nl": "OneDrive weigerde het bestand: '{detail}'.",
        "en": "OneDrive refused the file: '{detail}'.",
    },
    "onedrive.hash_mismatch": {
        "fr": "Le fichier reçu par OneDrive ne correspond pas à celui envoyé ; nouvel essai automatique.",
        "nl": "Het bestand dat OneDrive ontving, komt niet overeen met het verzonden bestand; automatisch nieuwe poging.",
        "en": "The file OneDrive received does not match the one sent; it is retried automatically.",
    },
    "onedrive.session_lost": {
        "fr": "L'envoi en plusieurs parties a été interrompu par OneDrive ; nouvel essai automatique.",
        "nl": "De verzending in delen werd door OneDrive onderbroken; automatisch nieuwe poging.",
        "en": "OneDrive interrupted the upload in parts; it is retried automatically.",
    },
    # Clearfacts.
    "clearfacts.connection_unknown": {
        "fr": "Aucune connexion Clearfacts n'est configurée pour le bureau (paramètres généraux → connexions).",
        "nl": "Er is geen Clearfacts-verbinding ingesteld voor het kantoor (algemene instellingen → verbindingen).",
        "en": "No Clearfacts connection is set for the office (general settings → connections).",
    },
    "clearfacts.vat_invalid": {
        "fr": "Clearfacts identifie un dossier par un numéro d'entreprise belge ; celui de ce client n'en est pas un.",
        "nl": "Clearfacts herkent een dossier aan een Belgisch ondernemingsnummer; dat van deze klant is er geen.",
        "en": "Clearfacts knows an administration by a Belgian enterprise number; this client's is not one.",
    },
    "clearfacts.type_unsupported": {
        "fr": "L'API de Clearfacts ne reçoit que des factures d'achat et de vente ; envoyez les documents divers par e-mail.",
        "nl": "De API van Clearfacts ontvangt alleen aankoop- en verkoopfacturen; verstuur diverse documenten per e-mail.",
        "en": "Clearfacts' API takes only purchase and sales invoices; send miscellaneous documents by e-mail.",
    },
    "clearfacts.token_refused": {
        "fr": "Clearfacts refuse le jeton de la connexion ; créez-en un nouveau dans Clearfacts (Profil → Intégrations).",
        "nl": "Clearfacts weigert het token van de verbinding; maak een nieuw in Clearfacts (Profiel → Integraties).",
        "en": "Clearfacts refuses the connection's token; make a new one in Clearfacts (Profile → Integrations).",
    },
    "clearfacts.refused": {
        "fr": "Clearfacts a refusé le document : « {detail} ».",
        "nl": "Clearfacts weigerde het document: '{detail}'.",
        "en": "Clearfacts refused the document: '{detail}'.",
    },
    "clearfacts.unavailable": {
        "fr": "Clearfacts n'a pas accepté le document pour le moment ; nouvel essai automatique.",
        "nl": "Clearfacts aanvaardde het document voorlopig niet; automatisch nieuwe poging.",
        "en": "Clearfacts did not take the document for now; it is retried automatically.",
    },
    "clearfacts.unreachable": {
        "fr": "Clearfacts n'a pas pu être joint ; nouvel essai automatique.",
        "nl": "Clearfacts was niet bereikbaar; automatisch nieuwe poging.",
        "en": "Clearfacts could not be reached; it is retried automatically.",
    },
    "clearfacts.no_answer": {
        "fr": "Clearfacts n'a pas répondu à temps ; nouvel essai automatique (le document peut arriver deux fois dans l'Inbox).",
        "nl": "Clearfacts antwoordde niet op tijd; automatisch nieuwe poging (het document kan twee keer in de Inbox komen).",
        "en": "Clearfacts did not answer in time; it is retried automatically (the document may reach the Inbox twice).",
    },
    # The office's agent.
    "agent.lease_lost": {
        "fr": "Ce document n'est plus réservé à cet agent ; il reviendra dans le flux.",
        "nl": "Dit document is niet meer voor deze agent gereserveerd; het komt terug in de feed.",
        "en": "This item is no longer leased to this agent; it comes back in the feed.",
    },
    "agent.hash_mismatch": {
        "fr": "L'empreinte sha256 annoncée par l'agent n'est pas celle du document.",
        "nl": "De sha256 die de agent meldt, is niet die van het document.",
        "en": "The sha256 the agent reports is not the document's.",
    },
    "agent.file_gone": {
        "fr": "Le document a été supprimé ; il ne sera pas livré.",
        "nl": "Het document werd verwijderd; het wordt niet geleverd.",
        "en": "The document was deleted; it will not be delivered.",
    },
    "agent.range_invalid": {
        "fr": "Plage d'octets invalide pour ce fichier.",
        "nl": "Ongeldig bytebereik voor dit bestand.",
        "en": "Invalid byte range for this file.",
    },
    "agent.refused": {
        "fr": "L'agent du bureau n'a pas pu écrire le document : « {detail} » ; nouvel essai automatique.",
        "nl": "De agent van het kantoor kon het document niet wegschrijven: '{detail}'; automatisch nieuwe poging.",
        "en": "The office's agent could not write the document: '{detail}'; it is retried automatically.",
    },
    "agent.never_acknowledged": {
        "fr": "L'agent a récupéré ce document plusieurs fois sans jamais confirmer sa réception ; vérifiez l'agent.",
        "nl": "De agent haalde dit document meermaals op zonder de ontvangst ooit te bevestigen; controleer de agent.",
        "en": "The agent fetched this document several times without ever confirming it; check the agent.",
    },
    "agent.tested_by_the_agent": {
        "fr": "Une connexion d'agent se teste depuis l'agent : démarrez-le ; sa dernière connexion s'affiche avec sa clé.",
        "nl": "Een agentverbinding test u vanaf de agent: start hem; zijn laatste verbinding staat bij zijn sleutel.",
        "en": "An agent connection is tested from the agent: start it; its last contact shows with its key.",
    },
}
