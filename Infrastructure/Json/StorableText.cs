using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace SliceApi.Infrastructure.Json;

/// <summary>
/// The one rule for text PostgreSQL cannot store: the character U+0000 (NUL). PostgreSQL refuses it in <c>text</c>
/// ("the character with code zero cannot be stored", PostgreSQL manual, section 8.3 Character Types) and in
/// <c>jsonb</c> (<c>\u0000</c> "cannot be converted to text", section 8.14.1), so a string holding it would fail
/// deep in a write as a 500. Every string that arrives is checked once, before any endpoint binds it: each query
/// parameter (name and values) and each string of a JSON request body, at any depth. The answer is a 400
/// validation problem whose <c>errors</c> names the parameter or member as the client sent it
/// (<c>title</c>, <c>scopes[0]</c>).
/// </summary>
/// <remarks>
/// The body check lives here, not in a JSON converter for <see cref="string"/>, because a custom string converter
/// makes schema generators drop <c>type: string</c> from every string in the OpenAPI document. JSON cannot carry a
/// raw NUL inside a string (RFC 8259 section 7: control characters must be escaped), so a body holds one only as the
/// escape <c>\u0000</c>; bodies without that byte sequence pass after one vectorized search.
/// </remarks>
public static class StorableText
{
    /// <summary>What the client is told for a string holding U+0000.</summary>
    public const string Message = "The text contains the character U+0000 (NUL), which cannot be stored; remove it.";

    /// <summary>Whether <paramref name="text"/> can be stored in PostgreSQL <c>text</c> and <c>jsonb</c>; null can.</summary>
    public static bool IsStorable(string? text) => text is null || !text.Contains('\0', StringComparison.Ordinal);

    /// <summary>
    /// Refuses a request whose query parameters or JSON body strings hold U+0000 with a 400 problem naming each one.
    /// Place after authentication and rate limiting, before the endpoints. A JSON body is read into memory once and
    /// handed to the endpoint from there; its size limit still applies (413).
    /// </summary>
    public static IApplicationBuilder UseStorableTextCheck(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var errors = UnstorableParameters(context.Request);
            if (await UnstorableBodyMemberAsync(context, context.RequestAborted) is { } member)
            {
                (errors ??= new(StringComparer.Ordinal))[member] = [Message];
            }

            if (errors is null)
            {
                await next(context);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new HttpValidationProblemDetails(errors)
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "The request is invalid.",
                    Detail = $"{string.Join(", ", errors.Keys.Select(k => $"'{k}'"))}: {Message}",
                },
            });
        });

    private static Dictionary<string, string[]>? UnstorableParameters(HttpRequest request)
    {
        if (!request.QueryString.HasValue)
        {
            return null;
        }

        Dictionary<string, string[]>? errors = null;
        foreach (var (name, values) in request.Query)
        {
            if (!IsStorable(name) || values.Any(v => !IsStorable(v)))
            {
                (errors ??= new(StringComparer.Ordinal))[name] = [Message];
            }
        }

        return errors;
    }

    private static async Task<string?> UnstorableBodyMemberAsync(HttpContext context, CancellationToken ct)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !(type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        // One copy: the endpoint reads the same bytes from memory. The body size limit applies while copying (413).
        // Content-Length only sizes the first buffer, up to 16 KiB: a client's claim is not an allocation.
        var body = new MemoryStream((int)Math.Clamp(request.ContentLength ?? 0, 0, 16 * 1024));
        await request.Body.CopyToAsync(body, ct);
        body.Position = 0;
        request.Body = body;
        context.Response.RegisterForDispose(body);
        var json = body.GetBuffer().AsSpan(0, (int)body.Length);
        return json.IndexOf("\\u0000"u8) < 0 ? null : FindUnstorableMember(json);
    }

    // The path of the first string value holding U+0000, as STJ names members ("title", "scopes[0]", "a.b");
    // "" for the body itself; null when there is none or the JSON is malformed (binding reports that).
    private static string? FindUnstorableMember(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var containers = new List<Container>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        containers[^1].Member = reader.GetString();
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        containers.RemoveAt(containers.Count - 1);
                        continue;
                }

                var segment = containers.Count == 0 ? null : containers[^1].NextSegment();
                if (reader.TokenType == JsonTokenType.String && !IsStorable(reader.GetString()))
                {
                    return string.Concat(containers.Select(c => c.Segment).Append(segment)).TrimStart('.');
                }

                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    containers.Add(new Container(reader.TokenType == JsonTokenType.StartArray, segment));
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private sealed class Container(bool isArray, string? segment)
    {
        private int index;

        public string? Segment { get; } = segment;

        public string? Member { get; set; }

        public string? NextSegment() => isArray ? $"[{index++}]" : "." + Member;
    }
}
