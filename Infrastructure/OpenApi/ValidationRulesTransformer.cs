using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using FluentValidation.Internal;
using FluentValidation.Validators;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Infrastructure.OpenApi;

/// <summary>
/// Writes the limits the FluentValidation validators enforce into the OpenAPI document, so generated clients and
/// readers see them: <c>required</c> (NotNull, NotEmpty), <c>minLength</c>/<c>maxLength</c> (Length, MaximumLength,
/// NotEmpty on strings), <c>minimum</c>/<c>maximum</c> (InclusiveBetween), <c>format</c> (EmailAddress, RFC 3339
/// date-time) and <c>enum</c> (OneOf, EachOneOf). Request bodies get them in their component schemas, query
/// parameters on the operation. Conditional rules (When/Unless) are left out, since they do not always apply.
/// </summary>
internal static class ValidationRulesTransformer
{
    /// <summary>Adds the limits of <c>IValidator&lt;T&gt;</c> to the schema of every request type T that has one.</summary>
    public static Task TransformSchemaAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (schema.Properties is not { Count: > 0 } properties || Limits(context.ApplicationServices, type) is not { Count: > 0 } limits)
        {
            return Task.CompletedTask;
        }

        foreach (var (member, facets) in limits)
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(member);
            if (properties.TryGetValue(name, out var property) && property is OpenApiSchema concrete)
            {
                facets.ApplyTo(concrete);
                if (facets.Required)
                {
                    schema.Required ??= new HashSet<string>();
                    schema.Required.Add(name);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Adds the limits of the endpoint's validated <c>[AsParameters]</c> type to its query parameters.</summary>
    public static Task TransformOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var validated = context.Description.ActionDescriptor.EndpointMetadata.OfType<ValidatedRequestMetadata>().FirstOrDefault();
        if (validated is null || operation.Parameters is not { Count: > 0 } parameters
            || Limits(context.ApplicationServices, validated.RequestType) is not { Count: > 0 } limits)
        {
            return Task.CompletedTask;
        }

        foreach (var (member, facets) in limits)
        {
            var property = validated.RequestType.GetProperty(member);
            var name = property?.GetCustomAttribute<FromQueryAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(member);
            if (parameters.FirstOrDefault(p => p.In == ParameterLocation.Query && p.Name == name) is OpenApiParameter parameter
                && parameter.Schema is OpenApiSchema schema)
            {
                facets.ApplyTo(schema);
                parameter.Required |= facets.Required;
            }
        }

        return Task.CompletedTask;
    }

    private static Dictionary<string, Facets>? Limits(IServiceProvider services, Type type)
    {
        var validatorType = typeof(IValidator<>).MakeGenericType(type);
        return services.GetService(validatorType) is IEnumerable<IValidationRule> rules ? Collect(rules, []) : null;
    }

    private static Dictionary<string, Facets> Collect(IEnumerable<IValidationRule> rules, Dictionary<string, Facets> limits)
    {
        foreach (var rule in rules)
        {
            if (rule is IIncludeRule)
            {
                // Include(new XValidator()): its rules apply to the same object.
                foreach (var adaptor in rule.Components.Select(c => c.Validator).OfType<IChildValidatorAdaptor>())
                {
                    if (Activator.CreateInstance(adaptor.ValidatorType) is IEnumerable<IValidationRule> included)
                    {
                        Collect(included, limits);
                    }
                }

                continue;
            }

            if (rule.PropertyName is null || rule.HasCondition || rule.HasAsyncCondition)
            {
                continue;
            }

            var facets = limits.TryGetValue(rule.PropertyName, out var found) ? found : limits[rule.PropertyName] = new Facets();
            foreach (var component in rule.Components.Where(c => !c.HasCondition && !c.HasAsyncCondition))
            {
                facets.Add(component.Validator);
            }
        }

        return limits;
    }

    private sealed class Facets
    {
        public bool Required { get; private set; }

        private bool notEmpty;
        private int? minLength;
        private int? maxLength;
        private string? minimum;
        private string? maximum;
        private string? format;
        private IReadOnlyList<string>? allowed;

        public void Add(IPropertyValidator validator)
        {
            switch (validator)
            {
                case INotEmptyValidator:
                    Required = true;
                    notEmpty = true;
                    break;
                case INotNullValidator:
                    Required = true;
                    break;
                case ILengthValidator length:
                    minLength = length.Min > 0 ? Math.Max(minLength ?? 0, length.Min) : minLength;
                    maxLength = length.Max > 0 ? length.Max : maxLength;
                    break;
                case IBetweenValidator { From: IFormattable from, To: IFormattable to }:
                    minimum = from.ToString(null, CultureInfo.InvariantCulture);
                    maximum = to.ToString(null, CultureInfo.InvariantCulture);
                    break;
                case IEmailValidator:
                    format = "email";
                    break;
                case IFormatValidator documented:
                    format = documented.Format;
                    break;
                case IAllowedValuesValidator values:
                    allowed = values.Values;
                    break;
            }
        }

        public void ApplyTo(OpenApiSchema schema)
        {
            // Arrays carry per-element limits on their items.
            var isArray = schema.Type is { } type && type.HasFlag(JsonSchemaType.Array);
            var target = isArray && schema.Items is OpenApiSchema items ? items : schema;
            if (notEmpty && isArray)
            {
                schema.MinItems = 1;
            }
            else if (notEmpty && schema.Type is { } scalar && scalar.HasFlag(JsonSchemaType.String))
            {
                minLength = Math.Max(minLength ?? 0, 1);
            }

            target.MinLength = minLength ?? target.MinLength;
            target.MaxLength = maxLength ?? target.MaxLength;
            target.Minimum = minimum ?? target.Minimum;
            target.Maximum = maximum ?? target.Maximum;
            target.Format = format ?? target.Format;
            if (allowed is not null)
            {
                target.Enum = allowed.Select(v => (JsonNode)JsonValue.Create(v)!).ToList();
            }
        }
    }
}
