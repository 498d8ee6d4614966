// The minimal XML reading behind ListObjectsV2, errors and multipart.
#include <doctest/doctest.h>

#include "location/s3_xml.h"

namespace s3 = slip::location::s3;

TEST_CASE("s3 xml: a ListObjectsV2 page with escapes, a token and a longer tag name") {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>edge/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <ContinuationToken>old</ContinuationToken>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&amp;x</NextContinuationToken>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>edge/a&amp;b &lt;1&gt; &#233;&#x4E2D;</Key>
    <LastModified>2026-11-25T23:27:18.250Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>123</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>edge/b</Key><LastModified>1970-01-01T00:00:01.000Z</LastModified>
    <ETag>"abc-2"</ETag><Size>0</Size><Owner><ID>x</ID></Owner></Contents>
</ListBucketResult>)";
  s3::ListPage page;
  REQUIRE(s3::parse_list_page(xml, &page));
  REQUIRE(page.objects.size() == 2);
  CHECK(page.objects[0].key == "edge/a&b <1> \xc3\xa9\xe4\xb8\xad");
  CHECK(page.objects[0].etag == "\"9b2cf535f27731c974343645a3985328\"");
  CHECK(page.objects[0].size == 123);
  CHECK(page.objects[0].modified_ns == 1795649238250000000LL);
  CHECK(page.objects[1].key == "edge/b");
  CHECK(page.objects[1].etag == "\"abc-2\"");
  CHECK(page.objects[1].size == 0);
  CHECK(page.objects[1].modified_ns == 1000000000LL);
  CHECK(page.truncated);
  CHECK(page.next_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x");

  s3::ListPage last;
  REQUIRE(
      s3::parse_list_page("<ListBucketResult><IsTruncated>false</IsTruncated>"
                          "<Contents/></ListBucketResult>",
                          &last));
  CHECK_FALSE(last.truncated);
  CHECK(last.objects.size() == 1);  // an empty element is still an element
  CHECK_FALSE(s3::parse_list_page("<Error><Code>AccessDenied</Code></Error>", &last));
}

TEST_CASE("s3 xml: element text, entities, escaping") {
  const std::string err =
      "<Error><Code>NoSuchKey</Code><Message>The key &apos;x&apos; "
      "does not exist</Message><Key>x</Key></Error>";
  CHECK(s3::xml_text(err, "Code").value() == "NoSuchKey");
  CHECK(s3::xml_text(err, "Message").value() == "The key 'x' does not exist");
  CHECK_FALSE(s3::xml_text(err, "UploadId").has_value());
  CHECK(s3::xml_text("<A attr=\"1\">v</A>", "A").value() == "v");
  CHECK(s3::xml_unescape("&bogus; &#xD800; &amp") == "&bogus; &#xD800; &amp");
  CHECK(s3::xml_unescape("&#x0D;&#10;") == "\r\n");
  CHECK(s3::xml_escape("\"a\" & <b>") == "&quot;a&quot; &amp; &lt;b&gt;");
  CHECK(s3::xml_unescape(s3::xml_escape("a&b<c>\"'")) == "a&b<c>\"'");
  CHECK(s3::parse_iso8601_ns("garbage") == 0);
}
