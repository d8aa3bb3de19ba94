<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="de_DE">
  <context>
    <name>ArtifactDesk</name>
    <message>
      <source>&amp;File</source>
      <translation>&amp;Datei</translation>
    </message>
    <message>
      <source>&amp;View</source>
      <translation>&amp;Ansicht</translation>
    </message>
    <message>
      <source>&amp;Help</source>
      <translation>&amp;Hilfe</translation>
    </message>
    <message>
      <source>&amp;Refresh</source>
      <translation>&amp;Aktualisieren</translation>
    </message>
    <message>
      <source>Sync with the backend now</source>
      <translation>Jetzt mit dem Backend abgleichen</translation>
    </message>
    <message>
      <source>&amp;Find…</source>
      <translation>&amp;Suchen…</translation>
    </message>
    <message>
      <source>Search artifacts by name</source>
      <translation>Artefakte nach Namen suchen</translation>
    </message>
    <message>
      <source>&amp;Settings…</source>
      <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
      <source>Backend, cache, transfers and language</source>
      <translation>Backend, Cache, Übertragungen und Sprache</translation>
    </message>
    <message>
      <source>&amp;Quit</source>
      <translation>&amp;Beenden</translation>
    </message>
    <message>
      <source>&amp;About Artifact Desk</source>
      <translation>&amp;Über Artifact Desk</translation>
    </message>
    <message>
      <source>&amp;Upload files…</source>
      <translation>Dateien &amp;hochladen…</translation>
    </message>
    <message>
      <source>Make a new version from files or a folder (or drop them on the window)</source>
      <translation>Eine neue Version aus Dateien oder einem Ordner anlegen (oder sie auf das Fenster ziehen)</translation>
    </message>
    <message>
      <source>&amp;Download version…</source>
      <translation>Version &amp;herunterladen…</translation>
    </message>
    <message>
      <source>Download the selected version into a folder you choose</source>
      <translation>Die gewählte Version in einen Ordner Ihrer Wahl herunterladen</translation>
    </message>
    <message>
      <source>&amp;Keep available offline</source>
      <translation>&amp;Offline verfügbar halten</translation>
    </message>
    <message>
      <source>Fetch the selected version into the cache and never evict it</source>
      <translation>Die gewählte Version in den Cache holen und nie verdrängen</translation>
    </message>
    <message>
      <source>S&amp;top keeping offline</source>
      <translation>Nicht mehr offline &amp;halten</translation>
    </message>
    <message>
      <source>Let the cache evict it</source>
      <translation>Der Cache darf sie verdrängen</translation>
    </message>
    <message>
      <source>&amp;Open</source>
      <translation>Ö&amp;ffnen</translation>
    </message>
    <message>
      <source>Open the file with its application</source>
      <translation>Die Datei mit ihrer Anwendung öffnen</translation>
    </message>
    <message>
      <source>Show in &amp;folder</source>
      <translation>Im &amp;Ordner zeigen</translation>
    </message>
    <message>
      <source>Show the file in the file manager</source>
      <translation>Die Datei im Dateimanager zeigen</translation>
    </message>
    <message>
      <source>Download &amp;selected files…</source>
      <translation>&amp;Gewählte Dateien herunterladen…</translation>
    </message>
    <message>
      <source>Download the selected files into a folder you choose</source>
      <translation>Die gewählten Dateien in einen Ordner Ihrer Wahl herunterladen</translation>
    </message>
    <message>
      <source>&amp;Transfers</source>
      <translation>Ü&amp;bertragungen</translation>
    </message>
    <message>
      <source>Show the transfers</source>
      <translation>Die Übertragungen zeigen</translation>
    </message>
    <message>
      <source>Embedded store {folder}</source>
      <translation>Eingebetteter Speicher {folder}</translation>
    </message>
    <message>
      <source>Server {url}</source>
      <translation>Server {url}</translation>
    </message>
    <message>
      <source>pending upload</source>
      <translation>wartet auf Hochladen</translation>
    </message>
    <message>
      <source>uploading</source>
      <translation>wird hochgeladen</translation>
    </message>
    <message>
      <source>upload paused</source>
      <translation>Hochladen pausiert</translation>
    </message>
    <message>
      <source>pending upload (offline)</source>
      <translation>wartet auf Hochladen (offline)</translation>
    </message>
    <message>
      <source>Search artifacts (Ctrl+F)</source>
      <translation>Artefakte suchen (Strg+F)</translation>
    </message>
    <message>
      <source>Main</source>
      <translation>Haupt</translation>
    </message>
    <message>
      <source>Edit not applied</source>
      <translation>Änderung nicht übernommen</translation>
    </message>
    <message>
      <source>About Artifact Desk</source>
      <translation>Über Artifact Desk</translation>
    </message>
    <message>
      <source>Artifact Desk: versioned datasets and models for machine-learning teams.</source>
      <translation>Artifact Desk: versionierte Datensätze und Modelle für Teams im maschinellen Lernen.</translation>
    </message>
    <message>
      <source>changed</source>
      <translation>geändert</translation>
    </message>
    <message>
      <source>added</source>
      <translation>hinzugefügt</translation>
    </message>
    <message>
      <source>removed</source>
      <translation>entfernt</translation>
    </message>
    <message>
      <source>Path</source>
      <translation>Pfad</translation>
    </message>
    <message>
      <source>Change</source>
      <translation>Änderung</translation>
    </message>
    <message>
      <source>Old size</source>
      <translation>Alte Größe</translation>
    </message>
    <message>
      <source>New size</source>
      <translation>Neue Größe</translation>
    </message>
    <message>
      <source>Key</source>
      <translation>Schlüssel</translation>
    </message>
    <message>
      <source>Old</source>
      <translation>Alt</translation>
    </message>
    <message>
      <source>New</source>
      <translation>Neu</translation>
    </message>
    <message>
      <source>Name</source>
      <translation>Name</translation>
    </message>
    <message>
      <source>Size</source>
      <translation>Größe</translation>
    </message>
    <message>
      <source>Digest</source>
      <translation>Prüfsumme</translation>
    </message>
    <message>
      <source>Cached</source>
      <translation>Im Cache</translation>
    </message>
    <message>
      <source>yes</source>
      <translation>ja</translation>
    </message>
    <message>
      <source>no</source>
      <translation>nein</translation>
    </message>
    <message>
      <source>{cached} of {total}</source>
      <translation>{cached} von {total}</translation>
    </message>
    <message>
      <source>Value</source>
      <translation>Wert</translation>
    </message>
    <message>
      <source>Type</source>
      <translation>Typ</translation>
    </message>
    <message>
      <source>Artifacts</source>
      <translation>Artefakte</translation>
    </message>
    <message>
      <source>{name}: {count} versions</source>
      <translation>{name}: {count} Versionen</translation>
    </message>
    <message>
      <source>Queued</source>
      <translation>Eingereiht</translation>
    </message>
    <message>
      <source>Running</source>
      <translation>Läuft</translation>
    </message>
    <message>
      <source>Paused</source>
      <translation>Pausiert</translation>
    </message>
    <message>
      <source>Waiting for the server (retrying)</source>
      <translation>Wartet auf den Server (neuer Versuch folgt)</translation>
    </message>
    <message>
      <source>Cancelled</source>
      <translation>Abgebrochen</translation>
    </message>
    <message>
      <source>Done</source>
      <translation>Fertig</translation>
    </message>
    <message>
      <source>Upload</source>
      <translation>Hochladen</translation>
    </message>
    <message>
      <source>Download</source>
      <translation>Herunterladen</translation>
    </message>
    <message>
      <source>Keep offline</source>
      <translation>Offline halten</translation>
    </message>
    <message>
      <source>Failed</source>
      <translation>Fehlgeschlagen</translation>
    </message>
    <message>
      <source>Done: {result}</source>
      <translation>Fertig: {result}</translation>
    </message>
    <message>
      <source>Failed: {error}</source>
      <translation>Fehlgeschlagen: {error}</translation>
    </message>
    <message>
      <source>{done} of {total}</source>
      <translation>{done} von {total}</translation>
    </message>
    <message>
      <source>committed</source>
      <translation>gespeichert</translation>
    </message>
    <message>
      <source>edits pending</source>
      <translation>Änderungen ausstehend</translation>
    </message>
    <message>
      <source>available offline</source>
      <translation>offline verfügbar</translation>
    </message>
    <message>
      <source>new</source>
      <translation>neu</translation>
    </message>
    <message>
      <source>Upload finished</source>
      <translation>Hochladen fertig</translation>
    </message>
    <message>
      <source>Download finished</source>
      <translation>Herunterladen fertig</translation>
    </message>
    <message>
      <source>Available offline</source>
      <translation>Offline verfügbar</translation>
    </message>
    <message>
      <source>Upload failed</source>
      <translation>Hochladen fehlgeschlagen</translation>
    </message>
    <message>
      <source>Download failed</source>
      <translation>Herunterladen fehlgeschlagen</translation>
    </message>
    <message>
      <source>Settings</source>
      <translation>Einstellungen</translation>
    </message>
    <message>
      <source>Embedded store on this computer</source>
      <translation>Eingebetteter Speicher auf diesem Rechner</translation>
    </message>
    <message>
      <source>Team server</source>
      <translation>Team-Server</translation>
    </message>
    <message>
      <source>Choose…</source>
      <translation>Wählen…</translation>
    </message>
    <message>
      <source>System language</source>
      <translation>Systemsprache</translation>
    </message>
    <message>
      <source>Backend</source>
      <translation>Backend</translation>
    </message>
    <message>
      <source>Server URL</source>
      <translation>Server-URL</translation>
    </message>
    <message>
      <source>API key</source>
      <translation>API-Schlüssel</translation>
    </message>
    <message>
      <source>Cache folder</source>
      <translation>Cache-Ordner</translation>
    </message>
    <message>
      <source>Cache size limit</source>
      <translation>Cache-Größe höchstens</translation>
    </message>
    <message>
      <source>Parallel transfers</source>
      <translation>Gleichzeitige Übertragungen</translation>
    </message>
    <message>
      <source>Language</source>
      <translation>Sprache</translation>
    </message>
    <message>
      <source>Files</source>
      <translation>Dateien</translation>
    </message>
    <message>
      <source>Metadata</source>
      <translation>Metadaten</translation>
    </message>
    <message>
      <source>Overview</source>
      <translation>Übersicht</translation>
    </message>
    <message>
      <source>Lineage</source>
      <translation>Herkunft</translation>
    </message>
    <message>
      <source>Compare</source>
      <translation>Vergleich</translation>
    </message>
    <message>
      <source>Select a version to see its files</source>
      <translation>Wählen Sie eine Version, um ihre Dateien zu sehen</translation>
    </message>
    <message>
      <source>Loading preview…</source>
      <translation>Vorschau wird geladen…</translation>
    </message>
    <message>
      <source>Select a file to preview it</source>
      <translation>Wählen Sie eine Datei für die Vorschau</translation>
    </message>
    <message>
      <source>Loading the list of files…</source>
      <translation>Die Dateiliste wird geladen…</translation>
    </message>
    <message>
      <source>New version</source>
      <translation>Neue Version</translation>
    </message>
    <message>
      <source>Project</source>
      <translation>Projekt</translation>
    </message>
    <message>
      <source>Start from</source>
      <translation>Ausgehend von</translation>
    </message>
    <message>
      <source>Description</source>
      <translation>Beschreibung</translation>
    </message>
    <message>
      <source>Aliases</source>
      <translation>Aliasse</translation>
    </message>
    <message>
      <source>Add</source>
      <translation>Hinzufügen</translation>
    </message>
    <message>
      <source>Remove</source>
      <translation>Entfernen</translation>
    </message>
    <message>
      <source>Save description</source>
      <translation>Beschreibung speichern</translation>
    </message>
    <message>
      <source>Select a version</source>
      <translation>Wählen Sie eine Version</translation>
    </message>
    <message>
      <source>Created</source>
      <translation>Erstellt</translation>
    </message>
    <message>
      <source>Produced by</source>
      <translation>Erzeugt von</translation>
    </message>
    <message>
      <source>Used by</source>
      <translation>Verwendet von</translation>
    </message>
    <message>
      <source>Tags</source>
      <translation>Tags</translation>
    </message>
    <message>
      <source>no run recorded</source>
      <translation>kein Lauf erfasst</translation>
    </message>
    <message>
      <source>no run yet</source>
      <translation>noch kein Lauf</translation>
    </message>
    <message>
      <source>Cache: {size}</source>
      <translation>Cache: {size}</translation>
    </message>
    <message>
      <source>No transfers in progress</source>
      <translation>Keine laufenden Übertragungen</translation>
    </message>
    <message>
      <source>Transfers</source>
      <translation>Übertragungen</translation>
    </message>
    <message>
      <source>Pause</source>
      <translation>Pausieren</translation>
    </message>
    <message>
      <source>Resume</source>
      <translation>Fortsetzen</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>Abbrechen</translation>
    </message>
    <message>
      <source>Retry</source>
      <translation>Wiederholen</translation>
    </message>
    <message>
      <source>Clear finished</source>
      <translation>Erledigte entfernen</translation>
    </message>
    <message>
      <source>All types</source>
      <translation>Alle Typen</translation>
    </message>
    <message>
      <source>Show only artifacts of these types</source>
      <translation>Nur Artefakte dieser Typen zeigen</translation>
    </message>
    <message>
      <source>Connecting…</source>
      <translation>Verbinde…</translation>
    </message>
    <message>
      <source>never</source>
      <translation>nie</translation>
    </message>
    <message>
      <source>Syncing…</source>
      <translation>Abgleich läuft…</translation>
    </message>
    <message>
      <source>API key refused · run artifact-desk login</source>
      <translation>API-Schlüssel abgelehnt · artifact-desk login ausführen</translation>
    </message>
    <message>
      <source>Online · synced {when}</source>
      <translation>Online · abgeglichen {when}</translation>
    </message>
    <message>
      <source>Offline · last synced {when} · retrying</source>
      <translation>Offline · zuletzt abgeglichen {when} · neuer Versuch folgt</translation>
    </message>
    <message>
      <source>The server cannot be reached: the upload will wait in the queue.</source>
      <translation>Der Server ist nicht erreichbar: das Hochladen wartet in der Warteschlange.</translation>
    </message>
    <message>
      <source>Version</source>
      <translation>Version</translation>
    </message>
    <message>
      <source>Run</source>
      <translation>Lauf</translation>
    </message>
    <message>
      <source>State</source>
      <translation>Zustand</translation>
    </message>
    <message>
      <source>Artifact Desk</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>—</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>%n key(s)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>%n item(s)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{s} s</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{size}/s</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{h} h {m} min</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{m} min {s} s</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>unknown error</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Keeping offline failed</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{title}: {error}. Retry it from the Transfers panel.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>keep the stored key</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>paste the key from your admin</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Paste an API key for {url}; a server admin creates one</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Stop keeping offline</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Fetching the files first; drag again when the transfer is done</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Fetch {path} to open it</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{name} ← {count} item(s)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Download {name}:{version} into</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Prepare {name}:{version} for dragging</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{path} was not downloaded</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>No application opens {path}; it is in {folder}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>({n} files)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Files for a new version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>draft</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>no size change</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{version} ({aliases})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{added} added, {removed} removed, {changed} changed, {unchanged} unchanged; {size}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Compare with</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Choose a version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Loading the file lists to compare…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Compare {version} with</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Pick a version to compare with.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>There is no other version to compare with.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Files ({count})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Metadata ({count})</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{path} is not in the local cache: download it to preview it</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>run</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Select a version to see its lineage</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>run {id}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>1 file</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{files}, {size}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{head}: {new} new, {stored} already stored</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>What is in this version, and why</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>best, production</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>JSON</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Edit the metadata as one JSON object</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Nothing to upload: drop files or folders on the window</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Checking the files…</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>None: only the dropped files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>identical to {version}: nothing to upload</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{count} files</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{head}: all already stored, nothing to upload</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{head}: all new</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>none</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{project}/{name} is a '{existing}' artifact, and a name has one type per project; choose type '{existing}' or another name</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Could not check the files: {message}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>metadata key '{key}' is in rows {first} and {row}; keep one</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>metadata row {row} has a value but no key; add a key or remove it</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>'latest' moves by itself to the newest version; pick another alias</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>add or move an alias, e.g. best</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>No description yet: type one and save</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>'latest' always points at the newest version</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{name}:{version} already has alias {alias}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Remove alias {alias}</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Binary file, {size}: no preview.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{size} is too large to preview.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{name} is not on this computer; download it to preview it.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Only the first %n row(s) are shown.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>Only the start of this {size} file is shown.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{name}: the image could not be decoded.</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{percent}%</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{n} running</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{n} queued</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{n} waiting</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{n} paused</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>{n} failed</source>
      <translation type="unfinished" />
    </message>
    <message>
      <source>The language changes when Artifact Desk starts again</source>
      <translation type="unfinished" />
    </message>
  </context>
</TS>