import TachoS3
import Testing

/// Signature V4 against the worked examples of AWS's S3 documentation ("Signature
/// Calculations for the Authorization Header: Transferring Payload in a Single Chunk"), whose
/// credentials are AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.
@Suite struct SigV4Tests {
    static let signer = SigV4Signer(
        credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    // 2013-05-24T00:00:00Z
    static let when: Int64 = 1_369_353_600

    @Test func getObjectExample() {
        let request = SigV4Signer.Request(
            method: "GET", path: "/test.txt",
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
            ],
            payloadHash: SigV4Signer.emptyPayloadHash)
        let a = Self.signer.authorization(request, amzDate: "20130524T000000Z")
        #expect(a.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(a.stringToSign.hasSuffix("\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        #expect(a.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(a.header == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        // `sign` adds the date and payload headers itself and gives the same header.
        let added = Self.signer.sign(
            SigV4Signer.Request(
                method: "GET", path: "/test.txt", headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
                payloadHash: SigV4Signer.emptyPayloadHash),
            unixSeconds: Self.when)
        #expect(added.first { $0.0 == "Authorization" }?.1 == a.header)
    }

    @Test func putObjectExample() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = SigV4Signer.payloadHash(body)
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigV4Signer.Request(
            method: "PUT", path: "/" + S3Path.encode("test$file.text", keepSlash: true),
            headers: [
                ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payloadHash: hash)
        let auth = Self.signer.sign(request, unixSeconds: Self.when).first { $0.0 == "Authorization" }?.1
        #expect(auth?.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") == true, "\(auth ?? "")")
    }

    @Test func listObjectsExampleSignsTheQuery() {
        let request = SigV4Signer.Request(
            method: "GET", path: "/", query: [("max-keys", "2"), ("prefix", "J")],
            headers: [("Host", "examplebucket.s3.amazonaws.com")], payloadHash: SigV4Signer.emptyPayloadHash)
        let auth = Self.signer.sign(request, unixSeconds: Self.when).first { $0.0 == "Authorization" }?.1
        #expect(auth?.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true, "\(auth ?? "")")
    }

    @Test func datesAndEncoding() {
        #expect(SigV4Signer.amzDate(Self.when) == "20130524T000000Z")
        #expect(SigV4Signer.amzDate(1_700_000_001) == "20231114T221321Z")
        #expect(S3Path.encode("a b/ç~x", keepSlash: true) == "a%20b/%C3%A7~x")
        #expect(S3Path.encode("a/b", keepSlash: false) == "a%2Fb")
    }
}
