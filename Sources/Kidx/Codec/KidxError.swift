/// Every error kidx reports. Each has a one-line description fit for a terminal.
public enum KidxError: Error, CustomStringConvertible, Equatable {
    /// No index at the path (no `CURRENT` file).
    case indexMissing(path: String)
    /// An index file is damaged: wrong magic, version, length or checksum, or undecodable data.
    case corruptIndex(file: String, reason: String)
    /// The index was written by another version of the format.
    case unsupportedFormat(file: String, version: Int)
    /// The query cannot be run: empty, only stop words, or malformed.
    case badQuery(String)
    /// A file or folder could not be read or written.
    case io(path: String, reason: String)
    /// The corpus folder holds no document kidx can index.
    case emptyCorpus(path: String)
    /// No stored document has this id.
    case documentNotFound(id: String)
    /// Another writer holds the index directory.
    case locked(path: String, pid: Int?)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .indexMissing(let path): return "no index at \(path) (run `kidx build CORPUS --index \(path)` first)"
        case .corruptIndex(let file, let reason): return "index file \(file) is corrupt: \(reason)"
        case .unsupportedFormat(let file, let version): return "index file \(file) has format version \(version); this kidx reads version \(IndexFormat.version) (rebuild the index)"
        case .badQuery(let reason): return "bad query: \(reason)"
        case .io(let path, let reason): return "\(path): \(reason)"
        case .emptyCorpus(let path): return "no documents found in \(path) (kidx reads .txt, .md, .jsonl and .jsonl.gz files)"
        case .documentNotFound(let id): return "no document with id \(id)"
        case .locked(let path, let pid): return "\(path) is being written by another kidx process\(pid.map { " (pid \($0))" } ?? ""); try again when it has finished"
        }
    }
}
