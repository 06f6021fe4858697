import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One document per failed login. Counting documents in a time window is exact on FerretDB and
 * MongoDB alike, where a shared `$inc` counter could lose updates on FerretDB.
 */
@Schema({ collection: 'login_failures', versionKey: false })
export class LoginFailure {
  @Prop({ required: true })
  email!: string;

  @Prop({ required: true })
  ip!: string;

  @Prop({ required: true })
  at!: Date;
}

export const LoginFailureSchema = SchemaFactory.createForClass(LoginFailure);
LoginFailureSchema.index({ email: 1, at: 1 });
LoginFailureSchema.index({ ip: 1, at: 1 });
