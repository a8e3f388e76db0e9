import CZlib
import Foundation

/// Something in a corpus that could not be indexed, with where it is.
public struct CorpusProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file, relative to the corpus folder.
    public var path: String
    /// The 1-based line in a JSON Lines file, when the problem is one line.
    public var line: Int?
    /// What is wrong.
    public var reason: String

    /// Creates a problem report.
    public init(path: String, line: Int?, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    /// A problem with the document read at `location`.
    public init(_ location: CorpusLocation, reason: String) {
        self.init(path: location.path, line: location.line, reason: reason)
    }

    /// `path:line: reason`.
    public var description: String { "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}

/// Where a document was read: its file, relative to the corpus folder, and the 1-based line in
/// a JSON Lines file.
public struct CorpusLocation: Sendable, Hashable {
    /// The file, relative to the corpus folder.
    public var path: String
    /// The line in a JSON Lines file; nil for a text or Markdown file.
    public var line: Int?

    /// Creates a location.
    public init(path: String, line: Int?) {
        self.path = path
        self.line = line
    }
}

/// Reads the documents of a corpus folder, recursively and in a stable (sorted) order:
/// `.txt` and `.md` files are one document each, `.jsonl` and `.jsonl.gz` one per line.
///
/// Text files: the first line is the title when it is short and a blank line follows it;
/// otherwise the title is made from the file name. Markdown files may start with front matter
/// (`---` lines around `date:`, `source:`, `url:`, `title:`) and a `# Title` heading.
/// JSON lines have `id`, `title`, `body`, `date`, `url`, `source` (`body` is required).
/// Unreadable files and lines (invalid UTF-8, binary data, malformed JSON) are reported and skipped.
public struct CorpusReader {
    /// The folder read (a single file works too).
    public let root: String

    /// The file name endings read.
    public static let extensions = [".txt", ".md", ".jsonl", ".jsonl.gz"]

    /// Longest first line still taken as a title.
    static let maximumTitleLength = 200

    /// The largest document read (a text file or a JSON line), in bytes; larger ones are
    /// reported and skipped without being held in memory whole.
    public static let maximumDocumentBytes = 64 << 20

    /// Threads that parse JSON lines: a batch of lines is parsed and normalized on all of them,
    /// then handed on in order.
    public let threads: Int

    /// Creates a reader of `root` that parses JSON lines on `threads` threads.
    public init(root: String, threads: Int = 1) {
        self.root = root
        self.threads = max(1, threads)
    }

    /// The files that will be read, relative to `root`, sorted. Follows symbolic links once
    /// (a link loop is reported, not followed).
    public func files(problems: inout [CorpusProblem]) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw KidxError.io(path: root, reason: "no such file or folder")
        }
        guard isDirectory.boolValue else { return [""] }
        var found: [String] = []
        var visited: Set<String> = []
        func walk(_ relative: String) {
            let absolute = relative.isEmpty ? root : root + "/" + relative
            let canonical = URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
            guard visited.insert(canonical).inserted else {
                problems.append(CorpusProblem(path: relative, line: nil, reason: "folder visited before (symbolic link loop?), skipped"))
                return
            }
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: absolute)
            } catch {
                problems.append(CorpusProblem(path: relative, line: nil, reason: "cannot list folder"))
                return
            }
            for entry in entries.sorted() where !entry.hasPrefix(".") {
                let path = relative.isEmpty ? entry : relative + "/" + entry
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isFolder) else { continue }
                if isFolder.boolValue {
                    walk(path)
                } else if Self.extensions.contains(where: { entry.lowercased().hasSuffix($0) }) {
                    found.append(path)
                }
            }
        }
        walk("")
        return found
    }

    /// Calls `body` with every readable document and where it was read, and `problem` with
    /// everything skipped.
    public func read(_ body: (Document, CorpusLocation) throws -> Void, problem: (CorpusProblem) -> Void) throws {
        var listingProblems: [CorpusProblem] = []
        let files = try files(problems: &listingProblems)
        listingProblems.forEach(problem)
        for relative in files {
            let path = relative.isEmpty ? root : root + "/" + relative
            let name = relative.isEmpty ? (root as NSString).lastPathComponent : relative
            let lowered = name.lowercased()
            if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".jsonl.gz") {
                try readJSONLines(path: path, name: name, body, problem: problem)
            } else {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                guard size <= Self.maximumDocumentBytes else {
                    problem(CorpusProblem(path: name, line: nil, reason: "file of \(size) bytes is larger than the \(Self.maximumDocumentBytes >> 20) MiB a document may have, skipped"))
                    continue
                }
                guard let data = FileManager.default.contents(atPath: path) else {
                    problem(CorpusProblem(path: name, line: nil, reason: "cannot read file (permissions?), skipped"))
                    continue
                }
                switch Self.decodeText(data) {
                case .failure(let reason):
                    problem(CorpusProblem(path: name, line: nil, reason: reason.message))
                case .success(let text):
                    let id = Self.id(forPath: name)
                    try body(lowered.hasSuffix(".md") ? Self.markdownDocument(id: id, text: text) : Self.textDocument(id: id, text: text),
                             CorpusLocation(path: name, line: nil))
                }
            }
        }
    }

    struct TextError: Error { var message: String }

    /// UTF-8 text, or why not: binary (a NUL byte) or invalid UTF-8 (with the byte offset).
    static func decodeText<Bytes: Collection>(_ bytes: Bytes) -> Result<String, TextError> where Bytes.Element == UInt8 {
        if bytes.contains(0) { return .failure(TextError(message: "binary file (contains NUL bytes), skipped")) }
        if let text = String(validating: bytes, as: UTF8.self) { return .success(UnicodeNormalizer.composed(text)) }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        return .failure(TextError(message: "invalid UTF-8 near byte \(offset), skipped"))
    }

    /// A text file's id: its path without the extension.
    static func id(forPath path: String) -> String {
        for suffix in extensions where path.lowercased().hasSuffix(suffix) { return String(path.dropLast(suffix.count)) }
        return path
    }

    /// `hochwasser-an-der-mosel` → `Hochwasser an der Mosel`.
    static func title(fromPath path: String) -> String {
        let base = (id(forPath: path) as NSString).lastPathComponent
        let words = base.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    static func textDocument(id: String, text: String) -> Document {
        let lines = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        if lines.count >= 3, lines[1].trimmingCharacters(in: .whitespaces).isEmpty {
            let first = lines[0].trimmingCharacters(in: .whitespaces)
            if !first.isEmpty, first.count <= maximumTitleLength {
                return Document(id: id, title: first, body: String(lines[2]))
            }
        }
        return Document(id: id, title: title(fromPath: id), body: text)
    }

    static func markdownDocument(id: String, text: String) -> Document {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields: [String: String] = [:]
        if lines.first?.trimmingCharacters(in: .whitespaces) == "---",
           let close = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) {
            for line in lines[1..<close] {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { fields[key] = value }
            }
            lines.removeSubrange(0...close)
        }
        while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeFirst() }
        var title = fields["title"]
        if let first = lines.first, first.hasPrefix("# ") {
            title = title ?? String(first.dropFirst(2)).trimmingCharacters(in: .whitespaces)
            lines.removeFirst()
        }
        let body = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return Document(id: fields["id"] ?? id, title: title ?? Self.title(fromPath: id), body: body,
                        date: fields["date"], url: fields["url"], source: fields["source"])
    }

    /// Parses one JSON line into a document; `fallbackID` names documents without an `id`.
    /// Members other than `id`, `title`, `body`, `date`, `url` and `source` are checked, not
    /// kept; of those, strings and numbers count (a number as written), other values not.
    static func jsonDocument(_ line: UnsafeBufferPointer<UInt8>, fallbackID: String) -> Result<Document, TextError> {
        guard !line.contains(0) else { return .failure(TextError(message: "invalid UTF-8 or NUL bytes, line skipped")) }
        switch JSONLineReader.values(in: line, names: jsonFieldNames) {
        case .failure(.invalidUTF8):
            return .failure(TextError(message: "invalid UTF-8 or NUL bytes, line skipped"))
        case .failure(.malformed):
            return .failure(TextError(message: "malformed JSON, line skipped"))
        case .success(let values):
            guard let body = values[2] else { return .failure(TextError(message: "no \"body\" text, line skipped")) }
            let compose = UnicodeNormalizer.composed
            return .success(Document(id: values[0] ?? fallbackID, title: compose(values[1] ?? ""), body: compose(body),
                                     date: values[3], url: values[4], source: values[5]))
        }
    }

    /// The members of a JSON line that make a document, in the order `jsonDocument` reads them.
    private static let jsonFieldNames = ["id", "title", "body", "date", "url", "source"].map { Array($0.utf8) }

    /// Lines parsed together: each thread parses a share of a batch.
    static let parsingBatch = 256

    /// Lines read and not yet parsed: their bytes back to back, each with its number, or, for a
    /// line too long to keep, its length.
    private struct LineBatch {
        var bytes: [UInt8] = []
        var lines: [(number: Int, bytes: Range<Int>, overlong: Int)] = []

        mutating func append(_ line: ArraySlice<UInt8>, number: Int) {
            lines.append((number, bytes.count..<(bytes.count + line.count), 0))
            bytes.append(contentsOf: line)
        }

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            lines.removeAll(keepingCapacity: true)
        }
    }

    /// Each line of `batch` parsed (nil for an overlong line), on `threads` threads.
    private static func parse(_ batch: LineBatch, fileID: String, threads: Int) -> [Result<Document, TextError>?] {
        var results = [Result<Document, TextError>?](repeating: nil, count: batch.lines.count)
        let workers = min(threads, batch.lines.count)
        batch.bytes.withUnsafeBufferPointer { bytes in
            batch.lines.withUnsafeBufferPointer { lines in
                results.withUnsafeMutableBufferPointer { results in
                    // Buffers, not the arrays: arrays read on several threads are retained and
                    // released by all of them.
                    let (bytes, lines, results) = (bytes, lines, results)
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        for index in (lines.count * worker / workers)..<(lines.count * (worker + 1) / workers) where lines[index].overlong == 0 {
                            results[index] = jsonDocument(UnsafeBufferPointer(rebasing: bytes[lines[index].bytes]),
                                                          fallbackID: "\(fileID):\(lines[index].number)")
                        }
                    }
                }
            }
        }
        return results
    }

    private func readJSONLines(path: String, name: String, _ body: (Document, CorpusLocation) throws -> Void,
                               problem: (CorpusProblem) -> Void) throws {
        guard let file = gzopen(path, "rb") else {
            problem(CorpusProblem(path: name, line: nil, reason: "cannot open file (permissions?), skipped"))
            return
        }
        defer { gzclose(file) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var lineNumber = 0
        // Bytes of an overlong line seen so far: the line is dropped as it streams by.
        var overlong = 0
        var batch = LineBatch()
        let fileID = Self.id(forPath: name)
        // Parses the batch and hands on its documents and problems in the order of the lines.
        func flush() throws {
            for (line, result) in zip(batch.lines, Self.parse(batch, fileID: fileID, threads: threads)) {
                switch result {
                case .success(let document): try body(document, CorpusLocation(path: name, line: line.number))
                case .failure(let error): problem(CorpusProblem(path: name, line: line.number, reason: error.message))
                case nil:
                    problem(CorpusProblem(path: name, line: line.number,
                                          reason: "line of \(line.overlong) bytes is longer than the \(Self.maximumDocumentBytes >> 20) MiB a document may have, skipped"))
                }
            }
            batch.removeAll()
        }
        func emit(_ line: ArraySlice<UInt8>) throws {
            lineNumber += 1
            if overlong > 0 {
                batch.lines.append((lineNumber, 0..<0, overlong + line.count))
                overlong = 0
            } else if !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                batch.append(line, number: lineNumber)
            }
            if batch.lines.count >= Self.parsingBatch { try flush() }
        }
        while true {
            let count = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if count < 0 {
                try flush()
                problem(CorpusProblem(path: name, line: lineNumber + 1, reason: "cannot decompress (damaged gzip?), rest of file skipped"))
                return
            }
            if count == 0 { break }
            var start = 0
            let read = chunk[0..<Int(count)]
            while let newline = read[start...].firstIndex(of: 0x0A) {
                if pending.isEmpty {
                    try emit(read[start..<newline])
                } else {
                    pending.append(contentsOf: read[start..<newline])
                    try emit(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
            pending.append(contentsOf: read[start...])
            if overlong > 0 || pending.count > Self.maximumDocumentBytes {
                overlong += pending.count
                pending.removeAll()
            }
        }
        if !pending.isEmpty || overlong > 0 { try emit(pending[...]) }
        try flush()
    }
}
