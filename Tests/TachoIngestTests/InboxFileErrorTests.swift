import Foundation
import SystemPackage
import Testing
import TachoFaults
@testable import TachoIngest
import TachoStore
import TachoTestSupport

/// Moves out of the inbox fail with `InboxFileError`: the operation, the path and the
/// environment's error (its errno) as facts, matched as cases; the text is derived.
@Suite struct InboxFileErrorTests {
    @Test func aFailedMoveNamesTheOperationAndTheErrno() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox", processed = dir.path + "/processed"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let file = inbox + "/a.json"
        try Data("[]".utf8).write(to: URL(fileURLWithPath: file))
        let fs = FaultInjectingFileSystem(faults: [Fault(.rename, .error(EIO), pathContains: "a.json")])
        let mover = FileMover(fs: fs)
        #expect {
            try mover.move(file, into: processed)
        } throws: { e in
            guard let e = e as? InboxFileError else { return false }
            return e.operation == .move(into: processed) && e.path == file && e.errno == .ioError
                && e.description == "\(file): move to \(processed): \(Errno.ioError)"
        }
        #expect(FileManager.default.fileExists(atPath: file), "a failed move leaves the file in the inbox")
        // The disk is healthy again: the same move succeeds, to the name it asked for.
        fs.clearFaults()
        #expect(try mover.move(file, into: processed) == processed + "/a.json")
    }

    @Test func aMissingDirectoryToListIsItsOwnCase() throws {
        let dir = TempDir()
        #expect {
            _ = try InputFiles.list(dir.path + "/absent")
        } throws: { e in
            guard let e = e as? InboxFileError else { return false }
            return e.operation == .listDirectory && e.errno == .noSuchFileOrDirectory && e.cause.code == .notFound
        }
    }
}
