using NJsonSchema;
using NSwag;

namespace SliceApi.Infrastructure.OpenApi;

/// <summary>
/// The length limits a string's format already implies, declared where a schema has none (OWASP API4:2023, unrestricted
/// resource consumption: every string states its bound): a uuid is 36 characters, an RFC 3339 date-time at most 35
/// (<c>2026-12-01T17:00:00.123456789+01:00</c>), a uri at most 2048. Ids are given the format registry's name <c>uuid</c> (NSwag writes
/// <c>guid</c>, which Ajv-based validators reject as unknown). Applied to every schema of the document: components, their
/// members and items, parameters and response headers.
/// </summary>
internal static class FormatLimits
{
    /// <summary>The characters of a uuid in its canonical text form (RFC 9562 section 4).</summary>
    public const int Uuid = 36;

    /// <summary>The longest RFC 3339 date-time the API reads: nine fractional digits and a numeric offset.</summary>
    public const int DateTime = 35;

    /// <summary>The longest URI the API reads, in characters (the common limit of browsers and servers).</summary>
    public const int Uri = 2048;

    /// <summary>Sets the missing <c>maxLength</c> of every uuid and date-time string in <paramref name="document"/>, and names uuids so.</summary>
    public static void Apply(OpenApiDocument document)
    {
        var seen = new HashSet<JsonSchema>();
        foreach (var schema in document.Components.Schemas.Values)
        {
            Visit(schema, seen);
        }

        foreach (var operation in document.Paths.Values.SelectMany(p => p.Values))
        {
            foreach (var parameter in operation.Parameters)
            {
                Visit(parameter.Schema, seen);
            }

            foreach (var header in operation.Responses.Values.SelectMany(r => r.Headers.Values))
            {
                Visit(header.Schema, seen);
            }
        }
    }

    private static void Visit(JsonSchema? schema, HashSet<JsonSchema> seen)
    {
        if (schema is null || !seen.Add(schema))
        {
            return;
        }

        if (schema.Format == "guid")
        {
            schema.Format = "uuid"; // NSwag's name for System.Guid; the OpenAPI format registry's is uuid
        }

        if (schema.Type.HasFlag(JsonObjectType.String) && schema.MaxLength is null)
        {
            schema.MaxLength = schema.Format switch
            {
                "uuid" => Uuid,
                "date-time" => DateTime,
                "uri" => Uri,
                _ => null,
            };
        }

        foreach (var child in schema.Properties.Values.Cast<JsonSchema>()
                     .Concat(schema.AllOf).Concat(schema.OneOf).Concat(schema.AnyOf)
                     .Append(schema.Item).Append(schema.AdditionalPropertiesSchema))
        {
            Visit(child, seen);
        }
    }
}
