import Foundation

/// Ready-made inputs for the micro-benchmarks of the hot paths (`Benchmarks/KidxBenchmarks`,
/// run with `swift package benchmark`): each fixture builds its data once in a temporary
/// folder, and its `run` method does the measured work and returns a checksum so the work is
/// not optimized away. Package access only: the codecs stay private to the library.
package enum BenchmarkFixtures {
    /// Decoding posting lists block by block: `documents` postings with one to four positions.
    package final class PostingsDecode {
        private let folder: String
        private let postings: MappedIndexFile
        private let positions: MappedIndexFile
        private let address: PostingsWriter.ListAddress

        /// Writes one list of `documents` postings (ids with gaps 1 to 8, seeded).
        package init(documents: Int) throws {
            folder = NSTemporaryDirectory() + "kidx-bench-postings-\(getpid())"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var generator = SeededGenerator(seed: 42)
            var docs: [Int32] = [], freqs: [UInt32] = [], flat: [Int32] = []
            var doc: Int32 = -1
            for _ in 0..<documents {
                doc += Int32.random(in: 1...8, using: &generator)
                let freq = UInt32.random(in: 1...4, using: &generator)
                docs.append(doc)
                freqs.append(freq)
                var position: Int32 = 0
                for _ in 0..<freq {
                    position += Int32.random(in: 1...40, using: &generator)
                    flat.append(position)
                }
            }
            let postingsFile = try IndexFileWriter(path: folder + "/p", kind: .postings)
            let positionsFile = try IndexFileWriter(path: folder + "/q", kind: .positions)
            var writer = PostingsWriter()
            address = try writer.write(docs: docs[...], freqs: freqs[...], positions: flat[...], norms: { _ in 10 },
                                       postings: postingsFile, positionsFile: positionsFile)
            try postingsFile.finish()
            try positionsFile.finish()
            postings = try MappedIndexFile(path: folder + "/p", kind: .postings)
            positions = try MappedIndexFile(path: folder + "/q", kind: .positions)
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        /// Reads every document and frequency; with `positions`, every position too.
        package func run(positions readPositions: Bool) throws -> Int {
            var cursor = try PostingsCursor(address.termInfo, postings: postings, positions: positions)
            var sum = 0
            var buffer: [Int32] = []
            while try cursor.next() {
                sum &+= Int(cursor.doc) &+ Int(cursor.freq)
                if readPositions {
                    try cursor.positions(into: &buffer)
                    sum &+= buffer.count
                }
            }
            return sum
        }

        /// Skips through the list with `advance(to:)` to every 64th document id.
        package func runSkipping() throws -> Int {
            var cursor = try PostingsCursor(address.termInfo, postings: postings, positions: positions)
            var target: Int32 = 0, sum = 0
            while try cursor.advance(to: target) {
                sum &+= Int(cursor.doc)
                target = cursor.doc + 64 * 4
            }
            return sum
        }
    }

    /// Looking keys up in a term dictionary of `terms` German-looking words.
    package final class TermLookup {
        private let folder: String
        private let dictionary: TermDictionary
        private let probes: [[UInt8]]

        /// Writes the dictionary; half of the probes are present, half absent.
        package init(terms: Int) throws {
            folder = NSTemporaryDirectory() + "kidx-bench-terms-\(getpid())"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var generator = SeededGenerator(seed: 7)
            let syllables = ["an", "be", "ver", "sch", "ung", "ten", "ge", "rei", "stra", "ße", "mann", "land", "ä", "ö", "ü", "ko", "re", "a"]
            var words = Set<String>()
            while words.count < terms {
                words.insert((0..<Int.random(in: 2...6, using: &generator)).map { _ in syllables.randomElement(using: &generator)! }.joined())
            }
            let keys = words.map { Field.body.key($0) }.sorted(by: ByteOrder.precedes)
            let file = try IndexFileWriter(path: folder + "/t", kind: .terms)
            let writer = TermDictionaryWriter(file: file)
            for (index, key) in keys.enumerated() {
                try writer.add(key: key, info: TermInfo(docFreq: index + 1, postingsOffset: index * 8, positionsOffset: index * 4, hasPositions: true))
            }
            try writer.finish()
            try file.finish()
            dictionary = try TermDictionary(file: MappedIndexFile(path: folder + "/t", kind: .terms))
            probes = (0..<1_000).map { index in index % 2 == 0 ? keys.randomElement(using: &generator)! : keys.randomElement(using: &generator)! + [0x7A] }
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        /// Looks up the 1,000 probes; returns how many were found.
        package func run() throws -> Int {
            var found = 0
            for key in probes where try dictionary.lookup(key) != nil { found += 1 }
            return found
        }
    }

    /// Tokenizing German text as the writer does (word breaking, folding, variants).
    package final class Tokenizing {
        private let analyzer = GermanAnalyzer()
        private let text: String

        /// The text of every `.txt` and `.md` file under `folder` (the sample corpus).
        package init(folder: String) throws {
            var text = ""
            try CorpusReader(root: folder).read({ document, _ in text += document.title + "\n" + document.body + "\n" }, problem: { _ in })
            self.text = text
        }

        /// UTF-8 bytes tokenized per `run`.
        package var bytes: Int { text.utf8.count }

        /// Tokenizes the text once; returns the number of words.
        package func run() -> Int {
            var words = 0, text = text
            text.withUTF8 { utf8 in analyzer.forEachWord(inUTF8: utf8) { _, _, _, _ in words += 1 } }
            return words
        }

        /// Tokenizes and stems every word (the query path).
        package func runWithTerms() -> Int {
            analyzer.tokens(of: text).count
        }
    }
}

/// A small deterministic generator (SplitMix64): benchmark fixtures and randomized tests are
/// the same in every run and on every platform.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
