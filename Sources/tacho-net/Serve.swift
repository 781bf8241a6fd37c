import ArgumentParser
import Dispatch
import Hummingbird
import TachoCLI
import TachoHTTP

extension S3Features {
    /// `tacho serve`: TachoHTTP read-only on the store, until SIGINT/SIGTERM (hummingbird's
    /// service lifecycle lets requests in flight finish).
    func serve(_ command: ServeCommand) throws {
        guard let address = command.address else { throw ValidationError("--listen \(command.listen): expected HOST:PORT") }
        var options = HTTPServerOptions(storePath: command.storeOption.path)
        options.host = address.host
        options.port = address.port
        options.declarations = try command.declarations()
        options.logger = command.log.logger("tacho.http")
        try options.apply(command.httpSettings())
        let scheme = options.scheme
        let server = TachoHTTPServer(options: options)
        do {
            try server.checkAddress()
        } catch {
            throw ValidationError("--listen \(command.listen): \(error)")
        }
        let done = DispatchSemaphore(value: 0)
        let failure = ServeFailure()
        Task {
            do {
                let app = try await server.application { port in
                    printError("tacho serve: listening on \(scheme)://\(address.host):\(port)")
                }
                try await app.runService()
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let e = failure.error { throw e }
    }
}

/// The serving task's error, read after it signalled its end.
private final class ServeFailure: @unchecked Sendable {
    // Written by the task before `done.signal()`, read after `done.wait()`: ordered by the semaphore.
    private(set) var error: (any Error)?
    func set(_ e: any Error) { error = e }
}
