import Foundation

/// The readers of untrusted bytes, each as one function of arbitrary input, for libFuzzer
/// (`Tools/fuzz`, target `kidx-fuzz`) and for the tests that replay what fuzzing found.
///
/// A target may reject its input with an error; it must never crash, hang or read out of bounds.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// The query language: parsing and analysis (`Query(parsing:)`).
    case query
    /// Corpus files: a text or Markdown file, and every line as a JSON Lines document.
    case documents
    /// Index files: the input patches one file of a small valid index (first byte: which file,
    /// and in its high bit whether to reseal the file, recomputing its checksums so the damage
    /// reaches the decoders; next four: where, a little-endian Int32, negative from the end; the
    /// rest: the bytes written there, keeping the file's size), which is then opened, searched
    /// and verified.
    case index

    /// What a target made of an input.
    package enum Outcome: Equatable, Sendable {
        /// Read without complaint.
        case accepted
        /// Refused with this message.
        case rejected(String)
    }

    /// Feeds `input` to the target.
    package func run(_ input: UnsafeBufferPointer<UInt8>) -> Outcome {
        switch self {
        case .query: return Self.query(input)
        case .documents: return Self.documents(input)
        case .index: return IndexFuzzing.shared.run(input)
        }
    }

    private static let analyzer = GermanAnalyzer()

    private static func query(_ input: UnsafeBufferPointer<UInt8>) -> Outcome {
        do {
            _ = try Query(parsing: String(decoding: input, as: UTF8.self), analyzer: analyzer)
            return .accepted
        } catch {
            return .rejected("\(error)")
        }
    }

    private static func documents(_ input: UnsafeBufferPointer<UInt8>) -> Outcome {
        var problems: [String] = []
        switch CorpusReader.decodeText(input) {
        case .success(let text):
            _ = CorpusReader.textDocument(id: "fuzz", text: text)
            _ = CorpusReader.markdownDocument(id: "fuzz", text: text)
        case .failure(let error):
            problems.append(error.message)
        }
        for (number, line) in input.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            if case .failure(let error) = CorpusReader.jsonDocument(UnsafeBufferPointer(rebasing: line), fallbackID: "fuzz:\(number + 1)") {
                problems.append(error.message)
            }
        }
        return problems.isEmpty ? .accepted : .rejected(problems.joined(separator: "; "))
    }
}

/// A small valid index kept in a temporary folder: each run writes a patched copy of one of its
/// files, reads the index back, and restores the file.
private final class IndexFuzzing: @unchecked Sendable {
    static let shared = IndexFuzzing()

    private let directory: String
    private let generation: String
    /// Every file of the index (relative to the generation) and its intact bytes.
    private var files: [String] = []
    private var originals: [String: [UInt8]] = [:]

    private init() {
        directory = NSTemporaryDirectory() + "kidx-fuzz-index-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        do {
            try Self.write(directory, mode: .replace) { writer in
                try writer.add(Document(id: "a", title: "Neue Sanktionen gegen Nordkorea",
                                        body: "Die Vereinten Nationen beschließen Sanktionen. Pjöngjang reagiert mit Atomwaffentests.",
                                        date: "2020-03-01", source: "beispiel.de"))
                try writer.add(Document(id: "b", title: "Impfstoffmangel in Bayern",
                                        body: "Der Mangel an Impfstoff trifft die Hausärzte. Söder fordert mehr Lieferungen.",
                                        date: "2021-01-15", source: "zeitung.de"))
                try writer.add(Document(id: "c", title: "Straßenbahn", body: "Die Strasse bleibt gesperrt, die Straßenbahn fährt um."))
                // Lists of a full block of 128 documents and more (skip tables, patched blocks,
                // packed tails and their positions), and of 16 to 127 (tail summaries).
                for number in 0..<150 {
                    try writer.add(Document(id: "n\(number)", title: "Meldung \(number) aus Bayern",
                                            body: "Neue Sanktionen und \(number % 7 + 1) Lieferungen Impfstoff für Bayern."
                                                + String(repeating: " Sanktionen gegen Nordkorea.", count: number % 5)
                                                + (number % 3 == 0 ? " Pjöngjang reagiert mit Atomwaffentests." : "")))
                }
            }
            // A second segment and a deletion mark, so that every kind of file is there.
            try Self.write(directory, mode: .update) { $0.delete(id: "c") }
            try Self.write(directory, mode: .update) {
                try $0.add(Document(id: "d", title: "Nord-Korea", body: "Neue Sanktionen gegen Nordkoreas Atomwaffenarsenal.", date: "2022-05-05"))
            }
            generation = try IndexDirectory(path: directory).currentGeneration()!
        } catch {
            fatalError("cannot build the fuzzing index: \(error)")
        }
        for segment in ["segment-000001", "segment-000002"] {
            for kind in IndexFormat.Kind.segmentFiles + [.deletions] where FileManager.default.fileExists(atPath: generation + "/" + segment + "/" + kind.fileName) {
                files.append(segment + "/" + kind.fileName)
            }
        }
        files.append(IndexFormat.Kind.analysis.fileName)
        for file in files { originals[file] = [UInt8](FileManager.default.contents(atPath: generation + "/" + file)!) }
    }

    /// One writer's changes, committed; the writer (and its lock) released on return.
    private static func write(_ directory: String, mode: IndexWriter.Mode, _ change: (IndexWriter) throws -> Void) throws {
        let writer = try IndexWriter(directory: directory, mode: mode)
        try change(writer)
        try writer.commit()
    }

    /// Runs patch one shared index: one at a time (tests run in parallel).
    private let lock = NSLock()

    func run(_ input: UnsafeBufferPointer<UInt8>) -> FuzzTarget.Outcome {
        guard input.count > 5 else { return .rejected("too short") }
        lock.lock()
        defer { lock.unlock() }
        let file = files[Int(input[0] & 0x7F) % files.count]
        var bytes = originals[file]!
        // A negative offset counts from the end, where trailers and footers are.
        let raw = Int(Int32(bitPattern: UInt32(input[1]) | UInt32(input[2]) << 8 | UInt32(input[3]) << 16 | UInt32(input[4]) << 24))
        let offset = raw < 0 ? bytes.count + raw : raw
        for (index, byte) in input.dropFirst(5).enumerated() {
            bytes[((offset + index) % bytes.count + bytes.count) % bytes.count] = byte
        }
        if input[0] & 0x80 != 0 { Self.reseal(&bytes) }
        let path = generation + "/" + file
        unlink(path)
        defer {
            unlink(path)
            _ = FileManager.default.createFile(atPath: path, contents: Data(originals[file]!))
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return .rejected("cannot write") }
        do {
            let reader = try IndexReader(directory: directory)
            let searcher = Searcher(reader: reader)
            for query in ["Sanktionen", "Impfstoff Mangel", "\"Straßenbahn fährt\"", "\"Sanktionen gegen Nordkorea\"", "Atom*", "Soeder~1",
                          "title:Bayern OR source:zeitung.de", "date:2020-01..2021-12"] {
                for mode in SearchOptions.Mode.allCases {
                    _ = try searcher.search(query, options: SearchOptions(limit: 5, mode: mode, explains: true))
                }
            }
            _ = try searcher.search("Nordkorea", options: SearchOptions(sort: .date))
            try reader.verify()
            return .accepted
        } catch {
            return .rejected("\(error)")
        }
    }

    /// Recomputes a framed file's chunk checksums and file checksum over its current bytes, as
    /// a writer that wrote bad data would have (framing fields are left as they are).
    private static func reseal(_ bytes: inout [UInt8]) {
        let size = bytes.count
        guard size >= IndexFormat.headerSize + IndexFormat.footerSize else { return }
        let bodyLength = bytes.withUnsafeBytes { Int(truncatingIfNeeded: $0.loadUnaligned(fromByteOffset: size - IndexFormat.footerSize, as: UInt64.self)) }
        // A damaged footer may hold any length: compare before summing (which could overflow).
        guard bodyLength >= 0, bodyLength <= size else { return }
        let chunk = 1 << IndexFormat.chunkShift
        let chunks = (bodyLength + chunk - 1) / chunk
        guard IndexFormat.headerSize + bodyLength + 4 * chunks + IndexFormat.footerSize == size else { return }
        bytes.withUnsafeMutableBytes { all in
            for index in 0..<chunks {
                let start = IndexFormat.headerSize + index * chunk
                let crc = Checksum.of(UnsafeRawBufferPointer(rebasing: all[start..<min(start + chunk, IndexFormat.headerSize + bodyLength)]))
                all.storeBytes(of: crc.littleEndian, toByteOffset: IndexFormat.headerSize + bodyLength + index * 4, as: UInt32.self)
            }
            let crc = Checksum.of(UnsafeRawBufferPointer(rebasing: all[0..<(size - 16)]))
            all.storeBytes(of: crc.littleEndian, toByteOffset: size - 8, as: UInt32.self)
        }
    }
}
