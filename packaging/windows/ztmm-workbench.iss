; ZTMM Workbench setup for Windows (Inno Setup 6). See packaging\windows\README.md.
;
; Build the PyInstaller bundle first (dist\ztmm-workbench\), then, from the repository root:
;
;     ISCC /DAppVersion=0.1.0 packaging\windows\ztmm-workbench.iss
;
; which writes dist\ztmm-workbench-0.1.0-setup.exe. The version is the one in
; ztmm_desktop\__init__.py; it is passed in, never written here. To sign the setup
; and its uninstaller as they are made, also pass /DSign and define a sign tool
; named "ztmmsign" (see the README):
;
;     ISCC /DAppVersion=0.1.0 /DSign "/Sztmmsign=signtool sign /fd SHA256 /tr <timestamp URL> /td SHA256 /a $f" ...

#ifndef AppVersion
  #error AppVersion is not set: run ISCC /DAppVersion=<version> (python -c "import ztmm_desktop; print(ztmm_desktop.__version__)")
#endif

#define AppName "ZTMM Workbench"
#define AppExeName "ztmm-desktop.exe"
#define CliExeName "ztmm.exe"
#define BundleDir "..\..\dist\ztmm-workbench"
#define DocumentIcon "ztmm-engagement.ico"
#define DocumentExtension ".ztmm"
#define DocumentProgId "ZTMMWorkbench.Engagement"
#define DocumentTypeName "ZTMM engagement"

#if !FileExists(AddBackslash(SourcePath) + BundleDir + "\" + AppExeName)
  #error dist\ztmm-workbench\ztmm-desktop.exe is missing: build the bundle first (pyinstaller packaging\ztmm-workbench.spec)
#endif

[Setup]
; The AppId ties upgrades and the uninstaller to this product: never change it.
AppId={{6D2189A4-5377-443C-BB84-4C222934AB2B}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoProductName={#AppName}
VersionInfoProductTextVersion={#AppVersion}
VersionInfoDescription={#AppName} setup
; For the current user (no administrator rights needed) unless the user picks
; "all users" in the first dialog; {autopf} and HKA follow that choice.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
; The bundle is 64-bit; Qt 6 needs Windows 10 or later.
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SetupIconFile=ztmm-workbench.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
WizardStyle=modern
Compression=lzma2
SolidCompression=yes
OutputDir=..\..\dist
OutputBaseFilename=ztmm-workbench-{#AppVersion}-setup
; The .ztmm association below: tell Explorer to refresh its icons when done.
ChangesAssociations=yes
; Offer to close a running copy before replacing its files.
CloseApplications=yes
#ifdef Sign
SignTool=ztmmsign
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: files the new version no longer ships must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#DocumentIcon}"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Comment: "Zero Trust Maturity Model assessments"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Registry]
; .ztmm files open in the workbench and show the engagement icon. HKA is HKCU\Software\Classes
; for a per-user install and HKLM\Software\Classes for an all-users one.
Root: HKA; Subkey: "Software\Classes\{#DocumentExtension}"; ValueType: string; ValueName: ""; ValueData: "{#DocumentProgId}"; Flags: uninsdeletevalue uninsdeletekeyifempty
Root: HKA; Subkey: "Software\Classes\{#DocumentExtension}\OpenWithProgids"; ValueType: string; ValueName: "{#DocumentProgId}"; ValueData: ""; Flags: uninsdeletevalue uninsdeletekeyifempty
Root: HKA; Subkey: "Software\Classes\{#DocumentProgId}"; ValueType: string; ValueName: ""; ValueData: "{#DocumentTypeName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#DocumentProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#DocumentIcon},0"
Root: HKA; Subkey: "Software\Classes\{#DocumentProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"" ""%1"""
; The "Open with" list names the application properly and offers it for .ztmm files only.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}\SupportedTypes"; ValueType: string; ValueName: "{#DocumentExtension}"; ValueData: ""

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent
