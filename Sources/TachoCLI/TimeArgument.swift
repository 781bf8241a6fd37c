import ArgumentParser
import TachoIngest
import TachoFormat
import TachoJSON
import TachoOutput

/// A time on the command line: RFC 3339, a date (UTC midnight), `now`, or relative to now
/// (`-2h`, `-7d`, `+30m`). Parsed to µs since the epoch.
struct TimeArgument: ExpressibleByArgument {
    let micros: Int64

    init?(argument: String) {
        guard let m = TimeArgument.parse(argument, now: wallClockMicros()) else { return nil }
        micros = m
    }

    static func parse(_ s: String, now: Int64) -> Int64? { ArgumentSyntax.time(s, now: now) }

    static var helpText: String { ArgumentSyntax.timeHelp }

    /// For `@Option(transform:)`: a value that does not parse says which forms are accepted
    /// (ArgumentParser's own message says only "invalid").
    static func parseOrExplain(_ s: String) throws -> TimeArgument {
        guard let t = TimeArgument(argument: s) else {
            throw ValidationError(ArgumentSyntax.notATime(s))
        }
        return t
    }
}

/// `--vehicle`, `--from`, `--to` shared by the query commands.
struct RangeOptionGroup: ParsableArguments {
    @Option(name: .customLong("vehicle"), help: ArgumentHelp("Only these vehicles: a,b or repeat the flag.", valueName: "ID,…"))
    var vehicleArguments: [String] = []

    /// `--vehicle a,b --vehicle c` as [a, b, c].
    var vehicles: [String] { commaList(vehicleArguments) }

    @Option(parsing: .unconditional, help: ArgumentHelp("Start of the range, inclusive: \(TimeArgument.helpText).", valueName: "TIME"),
            transform: TimeArgument.parseOrExplain)
    var from: TimeArgument?

    @Option(parsing: .unconditional, help: ArgumentHelp("End of the range, exclusive: \(TimeArgument.helpText).", valueName: "TIME"),
            transform: TimeArgument.parseOrExplain)
    var to: TimeArgument?

    /// Byte strings: `--vehicle é --vehicle e\u{301}` are two vehicles (`Identity`).
    var vehicleSet: Set<ByteString>? { vehicles.isEmpty ? nil : Set(bytesOf: vehicles) }
    var fromMicros: Int64 { from?.micros ?? .min }
    var toMicros: Int64 { to?.micros ?? .max }

    func validate() throws {
        if let f = from, let t = to, f.micros >= t.micros {
            throw ValidationError("--from must be before --to (the range is [from, to))")
        }
    }
}

/// Repeated options that also take comma-separated lists (`--vehicle a,b --vehicle c`), as
/// `--by` and `--retention` do (`ArgumentSyntax.commaList`).
func commaList(_ values: [String]) -> [String] { ArgumentSyntax.commaList(values) }
