import ArgumentParser
import TachoSchema

/// `tacho config`: the config file's built-in measurements and a check of a file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the built-in measurement declarations, or check a config file.",
        discussion: "The config file format (TOML) is documented in docs/CONFIG.md.",
        subcommands: [Defaults.self, Check.self]
    )

    struct Defaults: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the built-in measurements as TOML declarations (a config file's form).")

        func run() throws { print(DefaultDeclarations.text, terminator: "") }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a config file as the commands read it; print the measurements in force.",
            discussion: "Exit status 0 when the file is valid; else 64, and its first error (file:line:column, table, measurement, column) on stderr.")

        @Argument(help: ArgumentHelp("The config file.", valueName: "FILE")) var file: String

        func run() throws {
            let loaded = try LoadedConfig.load(file)
            if loaded.isLegacyJSON {
                print("# \(file): the older JSON form; settings only (declare measurements in TOML, docs/CONFIG.md)")
            }
            let own = Set(loaded.config.declaredMeasurements.map(\.name))
            print("# measurements in force: \(loaded.measurements.map { own.contains($0.name) ? "\($0.name) (from the file)" : $0.name }.joined(separator: ", "))")
            print(TachoConfig.render(loaded.measurements), terminator: "")
        }
    }
}
