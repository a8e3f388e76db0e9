import Foundation

/// The writer's lock on an index directory: a `LOCK` file holding the writer's process id,
/// created exclusively. A second writer is refused with the holder's pid; a lock left by a
/// process that no longer runs (a killed build) is taken over.
final class IndexLock {
    static let fileName = "LOCK"
    let path: String

    /// Takes the lock of `directory` (created if missing).
    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + Self.fileName
        for _ in 0..<2 {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 {
                let pid = Array("\(getpid())\n".utf8)
                _ = pid.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                close(descriptor)
                return
            }
            guard errno == EEXIST else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
            let holder = FileManager.default.contents(atPath: path).flatMap { Int32(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let holder, holder == getpid() || kill(holder, 0) == 0 || errno == EPERM {
                throw KidxError.locked(path: directory, pid: Int(holder))
            }
            // Stale: its writer is gone. Remove it and try once more.
            unlink(path)
        }
        throw KidxError.locked(path: directory, pid: nil)
    }

    deinit { unlink(path) }
}
