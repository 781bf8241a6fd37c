import ArgumentParser
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// One exit-status and error-message policy for every subcommand (docs/SEMANTICS.md,
/// "Exit status"): each error is printed once on stderr as `tacho <subcommand>: <message>`,
/// usage errors with that subcommand's usage line, and the process exits with one of
/// `ExitStatus`'s codes.
package enum ExitStatus {
    /// Done; also an empty inbox, `--help` and `--version`.
    static let success: Int32 = 0
    /// Something was wrong with the data or the store: a file or record rejected, `verify`
    /// found a problem, no store at the path, an I/O error.
    package static let failure: Int32 = 1
    /// The command line or the config file is wrong (EX_USAGE); nothing was done.
    static let usage: Int32 = 64
    /// Another writer holds the store's lock (EX_TEMPFAIL); nothing was done: run again later
    /// or with --wait-lock.
    static let tempFail: Int32 = 75

    /// The table `tacho --help` and the man page show.
    static let helpText = """
        Exit status (every subcommand):
          0   success, also when there was nothing to do (an empty inbox)
          1   a file or record was rejected, verify found a problem, or the
              store could not be read or written
          64  usage error: a bad option, argument or config file; nothing done
          75  another writer holds the store's lock; nothing done (run again
              later, or with --wait-lock)
        """
}

extension Tacho {
    /// Parses, runs, and exits by `ExitStatus`'s policy.
    static func runWithExitPolicy(_ arguments: [String]) -> Never {
        var parsed: ParsableCommand.Type?
        let arguments = globalOptionsMoved(arguments)
        do {
            var command = try parseAsRoot(arguments)
            parsed = type(of: command)
            try command.run()
            Glibc.exit(ExitStatus.success)
        } catch {
            exitOnError(error, command: parsed, arguments: arguments)
        }
    }

    /// `tacho -q -s DIR ingest …` as `tacho ingest -q -s DIR …`: the options every subcommand
    /// takes (-q, -v, -s, -c, --log-level and their long forms) may come before its name.
    static func globalOptionsMoved(_ arguments: [String]) -> [String] {
        let flags: Set<String> = ["-q", "--quiet", "-v", "--verbose"]
        let valued: Set<String> = ["-s", "--store", "-c", "--config", "--log-level"]
        var moved: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if flags.contains(a) {
                moved.append(a)
                i += 1
            } else if valued.contains(a), i + 1 < arguments.count {
                moved += [a, arguments[i + 1]]
                i += 2
            } else if valued.contains(where: { a.hasPrefix($0 + "=") }) && a.hasPrefix("--") {
                moved.append(a)
                i += 1
            } else {
                break
            }
        }
        guard !moved.isEmpty, i < arguments.count, subcommand(named: [arguments[i]]) != nil else { return arguments }
        return [arguments[i]] + moved + arguments[(i + 1)...]
    }

    /// The subcommand the arguments name (for an error before one was parsed): the first
    /// argument that is a subcommand's name.
    static func subcommand(named arguments: [String]) -> ParsableCommand.Type? {
        for a in arguments where !a.hasPrefix("-") {
            if let c = configuration.subcommands.first(where: { $0._commandName == a }) { return c }
        }
        return nil
    }

    /// Prints `error` by the policy and exits with its status.
    static func exitOnError(_ error: Error, command: ParsableCommand.Type?, arguments: [String]) -> Never {
        if let code = error as? ExitCode { Glibc.exit(code.rawValue) }  // the command printed its message
        // --help, --version, completion scripts: ArgumentParser's own output, exit 0.
        if exitCode(for: error) == .success { Self.exit(withError: error) }
        let sub = command == Tacho.self ? nil : command ?? subcommand(named: arguments)
        let prefix = sub.map { "tacho \(commandPath($0)): " } ?? "tacho: "
        if let e = error as? StoreError, e.code == .locked {
            printError(prefix + "\(e) (run again later, or with --wait-lock)")
            Glibc.exit(ExitStatus.tempFail)
        }
        if command != nil, error is ValidationError, let sub {
            // A value the command checked as it ran (a config file's setting, --wait-lock):
            // a usage error, shown with the subcommand's usage, not the root's.
            printError(prefix + message(for: error))
            printError(usageBlock(sub))
            Glibc.exit(ExitStatus.usage)
        }
        var text = fullMessage(for: error)
        if text.hasPrefix("Error: ") { text = prefix + text.dropFirst("Error: ".count) }
        printError(text)
        Glibc.exit(exitCode(for: error).rawValue)
    }

    /// `Usage: tacho <sub> …` and where to read more, as ArgumentParser prints it.
    static func usageBlock(_ sub: ParsableCommand.Type) -> String {
        let usage = usageString(for: sub)
        return "Usage: \(usage.hasPrefix("tacho") ? usage : "tacho " + usage)\n"
            + "  See 'tacho \(commandPath(sub)) --help' for more information."
    }

    /// `config check` for a nested subcommand, `query` for a top-level one.
    static func commandPath(_ type: ParsableCommand.Type) -> String {
        func find(_ c: ParsableCommand.Type, _ path: [String]) -> [String]? {
            if c == type { return path }
            for s in c.configuration.subcommands {
                if let p = find(s, path + [s._commandName]) { return p }
            }
            return nil
        }
        return find(Tacho.self, [])?.joined(separator: " ") ?? type._commandName
    }
}
