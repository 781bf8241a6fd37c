import TachoSchema

/// Durations and sizes as an operator types them on the command line: the config's grammar,
/// one implementation (`SettingUnits`, TachoSchema).
typealias Units = SettingUnits
