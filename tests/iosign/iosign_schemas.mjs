// The tests' own transcription of io-sign's published issuer contract (pagopa/io-sign,
// apps/io-func-sign-issuer/openapi.yaml, version 1.2.1): the components' field names, types
// and required members, written out here as JSON Schema (draft 2020-12 for ajv). io-sign's
// custom string formats are read as: Timestamp (UTCISODateFromString) an RFC 3339 date-time,
// Id (NonEmptyString) a non-empty string, FiscalCode the Italian fiscal code's pattern.
// io-sign's schemas do not forbid additional members, so neither do these.

const timestamp = { type: 'string', format: 'date-time' };
const id = { type: 'string', minLength: 1 };

export const schemas = {
  $id: 'iosign',
  $defs: {
    Timestamp: timestamp,
    Id: id,
    ProblemDetail: {
      type: 'object',
      properties: {
        type: { type: 'string', format: 'uri' },
        title: { type: 'string' },
        status: { type: 'integer', minimum: 100, exclusiveMaximum: 600 },
        detail: { type: 'string' },
        instance: { type: 'string', format: 'uri' },
      },
    },
    Clause: {
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 5, maxLength: 80 },
        type: { type: 'string', enum: ['REQUIRED', 'UNFAIR', 'OPTIONAL'] },
      },
      required: ['title', 'type'],
    },
    ExistingSignatureFieldAttrs: {
      type: 'object',
      properties: { unique_name: { type: 'string' } },
      required: ['unique_name'],
    },
    SignatureFieldToBeCreatedAttrs: {
      type: 'object',
      properties: {
        coordinates: {
          type: 'object',
          properties: { x: { type: 'number' }, y: { type: 'number' } },
          required: ['x', 'y'],
        },
        page: { type: 'number', minimum: 0 },
        size: {
          type: 'object',
          properties: { w: { type: 'number', minimum: 0 }, h: { type: 'number', minimum: 0 } },
          required: ['w', 'h'],
        },
      },
      required: ['coordinates', 'page', 'size'],
    },
    SignatureFieldAttrs: {
      oneOf: [{ $ref: '#/$defs/ExistingSignatureFieldAttrs' },
              { $ref: '#/$defs/SignatureFieldToBeCreatedAttrs' }],
    },
    SignatureField: {
      type: 'object',
      properties: {
        attrs: { $ref: '#/$defs/SignatureFieldAttrs' },
        clause: { $ref: '#/$defs/Clause' },
      },
      required: ['attrs', 'clause'],
    },
    DocumentMetadata: {
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 3, maxLength: 60 },
        signature_fields: { type: 'array', items: { $ref: '#/$defs/SignatureField' } },
      },
      required: ['title'],
    },
    DocumentMetadataList: { type: 'array', items: { $ref: '#/$defs/DocumentMetadata' } },
    DossierDetailView: {
      type: 'object',
      properties: {
        id,
        title: { type: 'string', minLength: 3 },
        support_email: { type: 'string', format: 'email' },
        documents_metadata: { $ref: '#/$defs/DocumentMetadataList' },
        created_at: timestamp,
        updated_at: timestamp,
      },
      required: ['id', 'title', 'documents_metadata', 'created_at', 'updated_at'],
    },
    SignerDetailView: { type: 'object', properties: { id }, required: ['id'] },
    Document: {
      type: 'object',
      properties: {
        id,
        metadata: { $ref: '#/$defs/DocumentMetadata' },
        created_at: timestamp,
        updated_at: timestamp,
      },
      required: ['id', 'metadata', 'created_at', 'updated_at'],
    },
    DocumentToBeUploaded: {
      allOf: [{ $ref: '#/$defs/Document' }, {
        type: 'object',
        properties: { status: { type: 'string', enum: ['WAIT_FOR_UPLOAD'] } },
        required: ['status'],
      }],
    },
    DocumentToBeValidated: {
      allOf: [{ $ref: '#/$defs/Document' }, {
        type: 'object',
        properties: { status: { type: 'string', enum: ['WAIT_FOR_VALIDATION'] },
                      uploaded_at: timestamp },
        required: ['status', 'uploaded_at'],
      }],
    },
    DocumentReady: {
      allOf: [{ $ref: '#/$defs/Document' }, {
        type: 'object',
        properties: { status: { type: 'string', enum: ['READY'] }, uploaded_at: timestamp,
                      url: { type: 'string', format: 'uri' } },
        required: ['status', 'uploaded_at', 'url'],
      }],
    },
    DocumentRejected: {
      allOf: [{ $ref: '#/$defs/Document' }, {
        type: 'object',
        properties: { status: { type: 'string', enum: ['REJECTED'] }, uploaded_at: timestamp,
                      rejected_at: timestamp, reject_reason: { type: 'string' } },
        required: ['status', 'uploaded_at', 'rejected_at', 'reject_reason'],
      }],
    },
    DocumentDetailView: {
      oneOf: [{ $ref: '#/$defs/DocumentToBeUploaded' }, { $ref: '#/$defs/DocumentToBeValidated' },
              { $ref: '#/$defs/DocumentReady' }, { $ref: '#/$defs/DocumentRejected' }],
    },
    // x-extensible-enum: DRAFT, READY, WAIT_FOR_SIGNATURE, SIGNED, REJECTED, CANCELLED (others
    // may come), so only a string.
    SignatureRequestStatus: { type: 'string' },
    NotificationDetailView: {
      type: 'object',
      properties: { io_message_id: { type: 'string' } },
      required: ['io_message_id'],
    },
    SignatureRequestDetailView: {
      type: 'object',
      properties: {
        id,
        status: { $ref: '#/$defs/SignatureRequestStatus' },
        dossier_id: id,
        signer_id: id,
        expires_at: timestamp,
        documents: { type: 'array', items: { $ref: '#/$defs/DocumentDetailView' } },
        notification: { $ref: '#/$defs/NotificationDetailView' },
        created_at: timestamp,
        updated_at: timestamp,
        signed_at: timestamp,
        rejected_at: timestamp,
        reject_reason: { type: 'string' },
        qr_code_url: { type: 'string', format: 'uri' },
        cancelled_at: timestamp,
      },
      required: ['id', 'status', 'dossier_id', 'signer_id', 'expires_at', 'documents',
                 'created_at', 'updated_at'],
    },
    SignatureRequestListView: {
      type: 'object',
      properties: {
        id,
        signer_id: id,
        dossier_id: id,
        status: { $ref: '#/$defs/SignatureRequestStatus' },
        created_at: timestamp,
        updated_at: timestamp,
        expires_at: timestamp,
      },
      required: ['id', 'signer_id', 'dossier_id', 'status', 'created_at', 'updated_at',
                 'expires_at'],
    },
    SignatureRequestList: {
      type: 'object',
      properties: {
        items: { type: 'array', items: { $ref: '#/$defs/SignatureRequestListView' } },
        continuation_token: { type: 'string' },
      },
      required: ['items'],
    },
    UploadUrl: { type: 'string', format: 'uri' },
    DocumentValidationResult: {
      type: 'object',
      properties: {
        is_valid: { type: 'boolean' },
        violations: { type: 'array', items: { type: 'string' } },
      },
      required: ['is_valid'],
    },
    // GET /info's inline schema.
    Info: {
      type: 'object',
      properties: { message: { type: 'string' }, version: { type: 'string' } },
      required: ['message', 'version'],
    },
  },
};
