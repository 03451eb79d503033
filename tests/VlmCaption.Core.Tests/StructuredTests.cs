using System.Text.Json.Nodes;
using VlmCaption.Structured;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The template that makes a structured caption's text, and the schema check, on their own.</summary>
public class StructuredTests
{
    private static readonly JsonObject Data = (JsonObject)JsonNode.Parse("""{"subject":"a cat","people":0,"tags":["cat","sofa"],"scene":{"light":"dusk"},"none":null}""")!;

    [Theory]
    [InlineData("{subject}, {tags}", "a cat, cat, sofa")]
    [InlineData("{scene.light} light; {people} people", "dusk light; 0 people")]
    [InlineData("{{literal}} {subject}", "{literal} a cat")]
    [InlineData("{missing}{none}{scene.missing.deeper} {subject}", "a cat")]
    [InlineData("{scene}", "{\"light\":\"dusk\"}")]
    [InlineData("open { brace", "open { brace")]
    public void Renders_fields_nested_fields_lists_and_braces(string template, string expected) =>
        Assert.Equal(expected, CaptionTemplate.Render(template, Data));

    [Fact]
    public void Without_a_template_the_caption_is_the_compact_json() =>
        Assert.Equal(Data.ToJsonString(), CaptionTemplate.Render("", Data));

    [Fact]
    public void Checks_an_answer_fenced_or_bare_and_names_what_is_wrong()
    {
        CaptionSchema schema = CaptionSchema.Parse("""{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}""", "test");
        Assert.NotNull(schema.Check("```json\n{\"n\": 2}\n```").Data);
        Assert.NotNull(schema.Check(" {\"n\": 2} ").Data);
        Assert.Contains("required", schema.Check("{\"m\": 2}").Why, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not JSON", schema.Check("A cat on a sofa.").Why);
        Assert.Contains("not an object", schema.Check("[1]").Why);
        (JsonObject? _, string? why) = schema.Check("{\"n\": \"two\"}");
        Assert.Contains("/n", why);
    }

    [Theory]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{not json", "not JSON")]
    [InlineData("{\"type\": 12}", "cannot read it as a schema")]
    public void Refuses_what_is_not_a_schema(string text, string why)
    {
        CaptionException e = Assert.Throws<CaptionException>(() => CaptionSchema.Parse(text, "'json_schema'"));
        Assert.Equal("InvalidJsonSchema", e.ErrorId);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void A_schema_that_refers_to_another_document_is_refused_before_any_request_and_nothing_is_fetched()
    {
        CaptionException e = Assert.Throws<CaptionException>(() => CaptionSchema.Parse("""{"$ref":"http://127.0.0.1:9/schema.json"}""", "'json_schema'"));
        Assert.Equal("InvalidJsonSchema", e.ErrorId);
        Assert.Contains("$defs", e.Message);
        CaptionSchema local = CaptionSchema.Parse("""{"$defs":{"n":{"type":"integer"}},"type":"object","properties":{"n":{"$ref":"#/$defs/n"}}}""", "test");
        Assert.NotNull(local.Check("{\"n\": 1}").Data);
        Assert.Null(local.Check("{\"n\": \"x\"}").Data);
    }
}
