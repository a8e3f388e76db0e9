import Foundation

/// One segment of an open index: its files memory-mapped, nothing read in proportion to its
/// documents. Documents are numbered from 0 within the segment; `IndexReader` adds each
/// segment's base.
final class SegmentReader {
    /// The segment's folder inside the generation.
    let folder: String
    let info: SegmentInfo
    let terms: TermDictionary
    let termsFile: MappedIndexFile
    let postingsFile: MappedIndexFile
    let positionsFile: MappedIndexFile
    let normsFile: MappedIndexFile
    let storeFile: MappedIndexFile
    let documentsFile: MappedIndexFile
    let store: DocumentStore
    /// Documents marked deleted in this generation (nil: none).
    let deletions: DeletionMarks?

    /// Opens the segment in `folder`; `deleted` is the number of deletion marks the manifest
    /// records for it (their file must then be present and agree).
    init(folder: String, documents: Int, deleted: Int) throws {
        self.folder = folder
        let segmentPath = folder + "/" + IndexDirectory.segmentFile
        guard let json = FileManager.default.contents(atPath: segmentPath) else {
            throw KidxError.corruptIndex(file: IndexDirectory.segmentFile, reason: "missing in \(folder)")
        }
        let info: SegmentInfo
        do {
            info = try JSONDecoder().decode(SegmentInfo.self, from: json)
        } catch {
            throw KidxError.corruptIndex(file: IndexDirectory.segmentFile, reason: "unreadable JSON in \(folder)")
        }
        self.info = info
        guard info.formatVersion == Int(IndexFormat.version) else {
            throw KidxError.unsupportedFormat(file: IndexDirectory.segmentFile, version: info.formatVersion)
        }
        guard info.documentCount == documents else {
            throw KidxError.corruptIndex(file: IndexDirectory.segmentFile, reason: "\(info.documentCount) documents, the manifest says \(documents)")
        }
        func map(_ kind: IndexFormat.Kind) throws -> MappedIndexFile {
            let file = try MappedIndexFile(path: folder + "/" + kind.fileName, kind: kind)
            if let expected = info.files.first(where: { $0.name == kind.fileName })?.bytes, expected != file.fileSize {
                throw KidxError.corruptIndex(file: kind.fileName, reason: "size \(file.fileSize) differs from the recorded \(expected)")
            }
            return file
        }
        termsFile = try map(.terms)
        postingsFile = try map(.postings)
        positionsFile = try map(.positions)
        normsFile = try map(.norms)
        storeFile = try map(.store)
        documentsFile = try map(.documents)
        terms = try TermDictionary(file: termsFile)
        store = try DocumentStore(file: storeFile)
        // Norms are read wherever a search scores: checked whole at open (two bytes a document).
        try normsFile.check(0..<normsFile.body.count)
        guard normsFile.body.count == info.documentCount * Field.allCases.count, store.documentCount == info.documentCount,
              documentsFile.body.count >= info.documentCount * 9 else {
            throw KidxError.corruptIndex(file: IndexFormat.Kind.norms.fileName, reason: "document counts disagree in \(folder)")
        }
        deletions = deleted > 0 ? try DeletionMarks(file: MappedIndexFile(path: folder + "/" + IndexFormat.Kind.deletions.fileName, kind: .deletions),
                                                     documents: documents, marked: deleted) : nil
    }

    /// Number of documents, deleted or not.
    var documentCount: Int { info.documentCount }

    /// The norm bytes of `field`, one per document.
    func norms(_ field: Field) -> UnsafeRawBufferPointer {
        let index = Field.allCases.firstIndex(of: field)!
        return UnsafeRawBufferPointer(rebasing: normsFile.body[(index * documentCount)..<((index + 1) * documentCount)])
    }

    /// A cursor over the postings of a dictionary key, or nil when no document has it.
    func postings(_ key: [UInt8]) throws -> PostingsCursor? {
        guard let info = try terms.lookup(key) else { return nil }
        return try cursor(info)
    }

    func cursor(_ info: TermInfo) throws -> PostingsCursor {
        try PostingsCursor(info, postings: postingsFile, positions: positionsFile)
    }

    /// Terms, postings and list bytes per key space. A list's bytes run to the next list's
    /// start in its file; a list that several keys share (an exact word and its stem) counts
    /// once, postings and bytes, for the first key.
    func keySpaceStatistics() throws -> [UInt8: KeySpaceStatistics] {
        var spaces: [UInt8: KeySpaceStatistics] = [:]
        var postingStarts: [Int: UInt8] = [:], positionStarts: [Int: UInt8] = [:]
        try terms.forEachEntry { key, info in
            let space = key.first ?? 0
            spaces[space, default: KeySpaceStatistics(name: KeySpaceStatistics.name(of: space), terms: 0, postings: 0, postingBytes: 0, positionBytes: 0)].terms += 1
            if postingStarts[info.postingsOffset] == nil {
                postingStarts[info.postingsOffset] = space
                spaces[space]!.postings += info.docFreq
            }
            if info.hasPositions, positionStarts[info.positionsOffset] == nil { positionStarts[info.positionsOffset] = space }
        }
        for (starts, end, isPositions) in [(postingStarts, postingsFile.body.count, false), (positionStarts, positionsFile.body.count, true)] {
            let offsets = starts.keys.sorted()
            for (index, offset) in offsets.enumerated() {
                let bytes = (index + 1 < offsets.count ? offsets[index + 1] : end) - offset
                let space = starts[offset]!
                if isPositions { spaces[space]!.positionBytes += bytes } else { spaces[space]!.postingBytes += bytes }
            }
        }
        return spaces
    }

    /// Every document's id and content fingerprint, in document order (`documents.kdx`).
    func documentTable() throws -> [(id: String, fingerprint: UInt64)] {
        try documentsFile.check(0..<documentsFile.body.count)
        var reader = ByteReader(documentsFile.body, file: documentsFile.name)
        var table: [(id: String, fingerprint: UInt64)] = []
        table.reserveCapacity(documentCount)
        for _ in 0..<documentCount {
            let id = try reader.readString()
            table.append((id, try reader.readUInt64()))
        }
        return table
    }

    var files: [MappedIndexFile] { [termsFile, postingsFile, positionsFile, normsFile, storeFile, documentsFile] }

    /// Verifies every file's checksum and decodes every structure: the dictionary, every posting
    /// list with its positions, the stored documents and the document table.
    func verify(progress: (String) -> Void) throws {
        let name = (folder as NSString).lastPathComponent
        for file in files + (deletions.map { [$0.file] } ?? []) {
            progress("checksum \(name)/\(file.name)")
            try file.verifyChecksum()
        }
        progress("\(name) postings")
        var positions: [Int32] = []
        var checked = 0
        try terms.forEachEntry { key, termInfo in
            checked += 1
            guard let space = key.first, space <= Field.dateSpace, space != Field.lexiconSpace else {
                throw KidxError.corruptIndex(file: termsFile.name, reason: "term with unknown field \(key.first ?? 0)")
            }
            var cursor = try cursor(termInfo)
            var count = 0, previous: Int32 = -1
            while try cursor.next() {
                guard cursor.doc > previous, Int(cursor.doc) < documentCount else {
                    throw KidxError.corruptIndex(file: postingsFile.name, reason: "document \(cursor.doc) out of order or range")
                }
                if termInfo.hasPositions { try cursor.positions(into: &positions) }
                previous = cursor.doc
                count += 1
            }
            guard count == termInfo.docFreq else {
                throw KidxError.corruptIndex(file: postingsFile.name, reason: "list has \(count) documents, dictionary says \(termInfo.docFreq)")
            }
        }
        guard checked == info.termCount else {
            throw KidxError.corruptIndex(file: termsFile.name, reason: "\(checked) terms, segment says \(info.termCount)")
        }
        progress("\(name) stored documents")
        var stored = 0
        try store.forEach { _, _ in stored += 1 }
        guard stored == documentCount else { throw KidxError.corruptIndex(file: storeFile.name, reason: "\(stored) documents stored, \(documentCount) indexed") }
        _ = try documentTable()
    }
}

/// A segment's deletion marks in one generation: a bit per document (`deleted.kdx`).
struct DeletionMarks {
    let file: MappedIndexFile
    private let bits: UnsafeRawBufferPointer

    init(file: MappedIndexFile, documents: Int, marked: Int) throws {
        self.file = file
        try file.check(0..<file.body.count)
        guard file.body.count == (documents + 7) / 8 else {
            throw KidxError.corruptIndex(file: file.name, reason: "\(file.body.count) bytes for \(documents) documents")
        }
        bits = file.body
        let count = bits.reduce(0) { $0 + $1.nonzeroBitCount }
        guard count == marked else { throw KidxError.corruptIndex(file: file.name, reason: "\(count) marks, the manifest says \(marked)") }
    }

    @inline(__always)
    func contains(_ doc: Int32) -> Bool { bits[Int(doc) >> 3] & (1 << (UInt8(doc & 7))) != 0 }

    /// Writes marks for the documents `deleted` (one bit each) to `path`.
    static func write(_ deleted: Set<Int>, documents: Int, to path: String) throws {
        var bytes = [UInt8](repeating: 0, count: (documents + 7) / 8)
        for doc in deleted { bytes[doc >> 3] |= 1 << UInt8(doc & 7) }
        let file = try IndexFileWriter(path: path, kind: .deletions)
        try file.write(bytes)
        try file.finish()
    }

    /// The marked documents.
    var marked: Set<Int> {
        var result = Set<Int>()
        for (index, byte) in bits.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 { result.insert(index * 8 + bit) }
        }
        return result
    }
}
