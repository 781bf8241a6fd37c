import ArgumentParser
import TachoSchema

/// `tacho serve`: the store over HTTP, read-only (docs/HTTP.md). The server (TachoHTTP,
/// hummingbird) is linked into `tacho-net` only; `tacho` execs it for this command.
package struct ServeCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store read-only over HTTP (docs/HTTP.md).",
        usage: "tacho serve [<options>]",
        discussion: """
            Answers GET /api/v1/measurements, /query/M, /latest/M, /agg/M, /vehicles, /stats (the read commands, with their parameters, as JSON, NDJSON or CSV) and /metrics, until SIGINT or SIGTERM; requests in flight finish. Writes are refused (404): they belong to the process that holds the store's writer. No token can be configured from the command line yet, so only a loopback address is served. With --tls-cert and --tls-key (or [http] tls_cert and tls_key) it serves HTTPS only.

            Examples:
              tacho serve --listen 127.0.0.1:8086
              curl -s 'http://127.0.0.1:8086/api/v1/latest/status?format=csv'
              tacho serve --listen 127.0.0.1:8443 --tls-cert cert.pem --tls-key key.pem
            """)

    @OptionGroup package var storeOption: StoreOptionGroup
    @OptionGroup package var log: LogOptionGroup
    @Option(help: ArgumentHelp("The loopback address and port to listen on (port 0: any free port, printed at start).", valueName: "HOST:PORT"))
    package var listen = "127.0.0.1:8086"
    @OptionGroup(title: "TLS") package var tls: TLSOptionGroup

    /// `--listen` split; nil when it is not HOST:PORT.
    package var address: (host: String, port: Int)? { TachoConfig.listenAddress(listen) }

    /// The measurements declared in force (`--config`, else the built-ins).
    package func declarations() throws -> [MeasurementDeclaration] { try storeOption.loadedConfig().measurements }

    /// `[http]` of the config file in force (tokens, limits, TLS), `--tls-cert`/`--tls-key` applied.
    package func httpSettings() throws -> HTTPSettings { tls.applied(to: try storeOption.loadedConfig().config.http) }

    package func validate() throws {
        guard address != nil else { throw ValidationError("--listen \(listen): expected HOST:PORT, like 127.0.0.1:8086") }
    }

    package func run() throws {
        try Tacho.networkFeatures(for: "tacho serve").serve(self)
    }
}
