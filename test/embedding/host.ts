import type { DynamicModule, INestApplication } from '@nestjs/common';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Injectable,
  Ip,
  Module,
  Patch,
  Post,
  Req,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { InjectModel, MongooseModule } from '@nestjs/mongoose';
import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import type { HydratedDocument, Model } from 'mongoose';
import { Schema as MongooseSchema, Types } from 'mongoose';
import { ExtractJwt, Strategy } from 'passport-jwt';

import type { AuthModuleOptions, AuthUser } from '../../src/auth/index.js';
import {
  AuditRecorder,
  Auth,
  byUser,
  CurrentUser,
  OptionalAuth,
  Owned,
  OwnedResource,
  Public,
  Role,
  UserAgent,
} from '../../src/auth/index.js';
import { RecipesModule } from './recipes/recipes.module.js';

// The host's own security event, typed like the kit's (declaration merging) and listed in the
// `audit.eventTypes` option so that the kit's routes accept it as a filter.
declare module '../../src/auth/index.js' {
  interface AuditEventDetails {
    'note.shared': { noteId: string; with: string };
  }
}

// A host application that knows nothing of Guardhouse's own modules: it imports the auth kit
// through its public API, brings its own Mongoose connection and protects its own resources with
// the kit's decorators alone. It runs on Express, not Fastify. Its resources: notes (below,
// owner-or-admin) and recipes (./recipes, public or private one by one).

@Schema({ collection: 'notes', timestamps: true })
class Note {
  @Prop({ required: true })
  text!: string;

  @Prop({ type: MongooseSchema.Types.ObjectId, ref: 'User', required: true, index: true })
  owner!: Types.ObjectId;
}
type NoteDocument = HydratedDocument<Note>;
const NoteSchema = SchemaFactory.createForClass(Note);

class NoteDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  text!: string;
}

class ShareDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  with!: string;
}

const view = (note: NoteDocument) => ({
  id: note._id.toString(),
  text: note.text,
  owner: note.owner.toString(),
});

@Controller('notes')
class NotesController {
  constructor(
    @InjectModel(Note.name) private readonly notes: Model<Note>,
    private readonly audit: AuditRecorder,
  ) {}

  @Get('about')
  @Public()
  about() {
    return { service: 'notes' };
  }

  @Get('count')
  @OptionalAuth()
  async count(@CurrentUser() user?: AuthUser) {
    return { mine: user ? await this.notes.countDocuments({ owner: user.id }) : null };
  }

  @Post()
  @Auth()
  async create(@Body() dto: NoteDto, @CurrentUser() user: AuthUser) {
    return view(await this.notes.create({ text: dto.text, owner: user.id }));
  }

  @Get()
  @Auth()
  async list(@CurrentUser() user: AuthUser) {
    const filter = user.role === Role.Admin ? {} : { owner: user.id };
    return (await this.notes.find(filter)).map(view);
  }

  @Get(':id')
  @Auth()
  @Owned({ model: Note.name, ownerField: 'owner' })
  get(@OwnedResource() note: NoteDocument) {
    return view(note);
  }

  @Patch(':id')
  @Auth()
  @Owned({ model: Note.name, ownerField: 'owner' })
  async update(@OwnedResource() note: NoteDocument, @Body() dto: NoteDto) {
    note.text = dto.text;
    return view(await note.save());
  }

  @Post(':id/share')
  @HttpCode(204)
  @Auth()
  @Owned({ model: Note.name, ownerField: 'owner' })
  share(
    @OwnedResource() note: NoteDocument,
    @Body() dto: ShareDto,
    @CurrentUser() user: AuthUser,
    @Ip() ip: string,
    @UserAgent() userAgent?: string,
  ): void {
    const noteId = note._id.toString();
    this.audit.record('note.shared', { noteId, with: dto.with }, byUser(user, { ip, userAgent }));
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth()
  @Owned({ model: Note.name, ownerField: 'owner' })
  async remove(@OwnedResource() note: NoteDocument): Promise<void> {
    await note.deleteOne();
  }
}

/**
 * The host's own token, older than the kit: another service signs it, and the host checks it with
 * a passport-jwt strategy of its own under passport-jwt's default name, 'jwt'.
 */
export const LEGACY_TOKENS = {
  secret: 'legacy-service-secret-of-32-chars-or-more',
  issuer: 'legacy',
};

@Injectable()
class LegacyTokenStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: LEGACY_TOKENS.secret,
      issuer: LEGACY_TOKENS.issuer,
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub: string }): { service: string } {
    return { service: payload.sub };
  }
}

@Controller('legacy')
class LegacyController {
  /** Not the kit's: @Public() for the kit's global guard, the host's own guard instead. */
  @Get('whoami')
  @Public()
  @UseGuards(AuthGuard('jwt'))
  whoami(@Req() request: { user: { service: string } }) {
    return request.user;
  }
}

export const HOST_ADMIN = { email: 'boss@notes.test', password: 'Boss-pass-1!' };
export const HOST_AUTH: AuthModuleOptions = {
  jwt: {
    secret: 'notes-host-secret-of-at-least-32-chars!',
    issuer: 'notes-host',
    audience: 'notes-api',
  },
  bcryptRounds: 10,
  admin: HOST_ADMIN,
  loginThrottle: { maxFailuresPerAccount: 3 },
  mfa: { encryptionKey: 'a'.repeat(32) + 'b'.repeat(32), issuer: 'Notes' },
  audit: { eventTypes: ['note.shared'], flushIntervalMs: 50 },
};

/** The host's root module (its app.module.ts): the connection, the kit, its resources. */
@Module({})
class NotesHostModule {
  static forRoot(mongoUri: string, auth: DynamicModule): DynamicModule {
    return {
      module: NotesHostModule,
      imports: [
        MongooseModule.forRoot(mongoUri),
        MongooseModule.forFeature([{ name: Note.name, schema: NoteSchema }]),
        RecipesModule,
        auth,
      ],
      controllers: [NotesController, LegacyController],
      providers: [LegacyTokenStrategy],
    };
  }
}

export async function createHost(mongoUri: string, auth: DynamicModule): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [NotesHostModule.forRoot(mongoUri, auth)],
  }).compile();
  const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
  app.setGlobalPrefix('api');
  // The kit's DTOs (signup, login, users) are validated by the host's global pipe.
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  await app.init();
  return app;
}
